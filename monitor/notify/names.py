"""The webhook kinds' names: what `webhooks[].kind` accepts.

Apart from the registry (kinds.py, which checks at import that it has one entry per name), so that loading
a config imports no renderer: every command loads the config, few of them send.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["slack", "discord", "teams", "generic", "mattermost", "ntfy", "googlechat"]
