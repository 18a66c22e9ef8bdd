"""Everything Qt lives here and only here (an import-linter contract enforces it).

Importing this package applies the Qt binding work-arounds of :mod:`medstation.ui.qt_compat` once.
"""

from medstation.ui.qt_compat import fix_signal_emit_refcount, pin_none

fix_signal_emit_refcount()
pin_none()
