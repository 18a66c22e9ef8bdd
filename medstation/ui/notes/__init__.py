"""Notes tab: client and session browser, transcript, tracked note editor, risk flags, sign-off."""
