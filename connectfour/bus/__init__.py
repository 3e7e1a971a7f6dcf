"""How stored events reach every process with members in the game (docs/architecture.md, "The layers")."""

from .base import Bus, Delivery, Hearing, Message
from .inbox import Inbox
from .local import LocalBus

__all__ = ["Bus", "Delivery", "Hearing", "Inbox", "LocalBus", "Message"]
