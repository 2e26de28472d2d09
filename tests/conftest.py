"""Session-wide test set-up that must happen before any test module loads.

nova's test packages call ``nova.monkey_patch.patch()`` on import, which
eventlet-patches the whole process unless told otherwise.  nova 34 runs its
services on native threads, so the nova-backed tests do too, and the rest
of the suite is never run under eventlet: choose native threading here,
before anything imports eventlet (nova refuses to start threaded once it
has been imported).
"""

import os

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

try:
    from nova import monkey_patch
except ImportError:  # nova is only needed for the nova-backed tests
    monkey_patch = None

if monkey_patch is not None:
    monkey_patch.patch()
