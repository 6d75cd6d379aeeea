# System-wide kernel configuration baked into the Clarify kernel image.
c = get_config()  # noqa: F821 (injected by traitlets)
c.InlineBackend.figure_formats = {"png"}
c.IPKernelApp.matplotlib = None
c.HistoryManager.hist_file = ":memory:"
