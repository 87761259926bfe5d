"""The checks, one module per category; importing this registers their phases (:mod:`conformance.phases`)."""

from __future__ import annotations

from conformance.checks import auth, courtesy, inputs, lifecycle, preflight, resources, webhooks

__all__ = ["auth", "courtesy", "inputs", "lifecycle", "preflight", "resources", "webhooks"]
