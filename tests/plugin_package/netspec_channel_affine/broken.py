"""An entry point whose import fails, as a plugin with a missing dependency does."""

import a_package_that_is_not_installed  # noqa: F401
