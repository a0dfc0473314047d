"""Positioning tests: the bank (bank), the adaptive engine (engine), taking a test (taking),
its results (scoring), who may see them (access), item calibration (calibration)."""
