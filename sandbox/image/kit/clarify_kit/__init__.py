"""clarify_kit: the offline kit for Clarify's AI interview problems.

The interview sandbox has no network, so problems that need an LLM, embeddings, a vector
store or agent tools use these small, deterministic stand-ins instead. Pure Python and numpy.

Modules:

* :mod:`clarify_kit.tokens` -- deterministic token counting and truncation.
* :mod:`clarify_kit.llm` -- ``SimulatedLLM``, a hosted chat API: it takes time, costs money
  and fails the way a real provider's API can.
* :mod:`clarify_kit.embeddings` -- hashing embeddings (lexical similarity) and ``cosine``.
* :mod:`clarify_kit.vectors` -- ``VectorIndex``, exact cosine search over numpy arrays.
* :mod:`clarify_kit.tools` -- ``ToolEnv``, a small shop behind unreliable agent tools.

Example::

    >>> from clarify_kit import llm, embeddings, vectors, tools, tokens
    >>> tokens.count("How many tokens is this?")
    6
"""

from clarify_kit import embeddings, llm, tokens, tools, vectors

__version__ = "0.1.0"
__all__ = ["embeddings", "llm", "tokens", "tools", "vectors"]
