"""qbuild: build embedded ML artifacts (int8 .tflite, C arrays, firmware, footprint) from a Keras model.

Plain Python: no module in this package imports SCons except `qbuild.scons_adapter`.
"""
__version__ = "0.1.0"
