"""Code shared by the Concert platform's Lambda handlers (published as the shared layer)."""
