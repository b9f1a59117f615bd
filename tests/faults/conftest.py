"""The in-process fault tests use the end-to-end harness: the real bot against the emulator."""

from tests.e2e.conftest import emu, harness, world

__all__ = ["emu", "harness", "world"]
