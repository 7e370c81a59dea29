"""The baseline shipped with the package (`monitor.seeds`): seeds/*.yaml and the seed article.

Read it with importlib.resources (monitor.classify.baseline.packaged_baseline), which works from a
checkout, an editable install and a wheel alike.
"""
