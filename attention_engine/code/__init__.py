"""Code exercises: the learner writes attention in NumPy or PyTorch, and the worker runs it.

``sandbox`` runs learner code in a fresh bubblewrap sandbox (``harness`` is the program inside)
and brings back the arrays it returned; nothing here imports torch, and nothing runs learner
code outside a sandbox.
"""
