"""SCons tool `qbuild_tool` for a pip-installed qbuild (a checkout's SConstruct finds site_scons/site_tools instead):

    import qbuild.scons
    env = Environment(tools=["default", "qbuild_tool"], toolpath=[qbuild.scons.TOOLPATH])
"""
from qbuild.scons.tool import exists, generate  # noqa: F401  (what SCons looks for in a tool module)
