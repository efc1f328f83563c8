"""Which words can name a layer or a branch.

Names and branch labels become attribute paths of the built module (`incep1.branch5x5.conv`),
so each must be an identifier that Python and torch accept as a submodule name: not a keyword
(`self.class` is a syntax error in the generated forward), not `self`, and not an attribute
every torch module already has (a layer named `forward` would replace the network's forward,
one named `training` its train/eval flag). Names starting with `_` are torch's own.
The list is spelled out so the checker stays torch-free; a test compares it with torch.
"""

from __future__ import annotations

import keyword
import re

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

MODULE_ATTRIBUTES = frozenset("""
T_destination add_module add_submodule apply bfloat16 buffers call_super_init children code compile cpu cuda
delete_all_unused_submodules delete_submodule double dump_patches eval extra_repr float forward get_buffer
get_extra_state get_parameter get_submodule graph half ipu load_state_dict meta modules mtia named_buffers
named_children named_modules named_parameters parameters print_readable recompile register_backward_hook
register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook
register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
set_extra_state set_submodule shape_env share_memory state_dict to to_empty to_folder train training type xpu
zero_grad self
""".split())


def name_problem(name: object) -> str | None:
    """Why `name` cannot name a layer or branch of the built module, or None when it can."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        return "an identifier (letters, digits, _)"
    if keyword.iskeyword(name):
        return "an identifier that is not a Python keyword"
    if name.startswith("_"):
        return "an identifier that does not start with '_' (torch's own attributes do)"
    if name in MODULE_ATTRIBUTES:
        return "a word that torch's modules do not already use"
    return None
