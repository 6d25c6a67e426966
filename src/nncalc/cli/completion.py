"""``nncalc completion``: a shell's tab-completion script."""

import sys
from enum import Enum
from typing import Annotated

import typer

from nncalc.cli import COMPLETE_VAR
from nncalc.cli.command import command


class Shell(str, Enum):
    """Shells ``completion`` writes a script for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@command("Print a shell's tab-completion script.")
def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", metavar="SHELL", case_sensitive=False)],
) -> None:
    """Print the tab-completion script for a shell: commands, options, activation and loss names, files.

    \b
    Examples:
      nncalc completion bash > ~/.local/share/bash-completion/completions/nncalc
      nncalc completion zsh > "${fpath[1]}/_nncalc"
      nncalc completion fish > ~/.config/fish/completions/nncalc.fish
    """

    # typer's own scripts and completion classes (typer is pinned below 0.29 in pyproject.toml)
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="nncalc", complete_var=COMPLETE_VAR, shell=shell.value)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")
