"""Onboarding imports: a member library's existing patrons become province readers.

``rows`` is the common shape of one source patron; ``files`` and the adapter's
``iter_patrons`` produce rows; ``prepare`` validates one row without ever
rejecting it; ``write`` stores a batch with bulk statements; ``run`` drives
batches with a checkpoint per library and source, so an interrupted import
resumes where it stopped.
"""
