# Runs silently at session start and after every restart: display options and a fixed seed.
import numpy as _np
import pandas as _pd

_pd.set_option("display.max_columns", 20)
_pd.set_option("display.max_colwidth", 120)
_pd.set_option("display.width", 160)
_np.random.seed(0)

del _np, _pd
