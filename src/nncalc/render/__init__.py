"""Renderers: turn a computed result into text. They format; they never compute.

Only ``nncalc.render.table`` imports Rich; the others write plain text, so that
machine formats load nothing they do not need.
"""
