"Packaging for data_efficient_lth: every field comes from settings.ini (nbdev 2 layout)."
from configparser import ConfigParser
from pathlib import Path
import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini")
s = cfg["DEFAULT"]

def _list(key): return s.get(key, "").split()

setuptools.setup(
    name=s["lib_name"],
    version=s["version"],
    description=s["description"],
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=s["author"],
    author_email=s["author_email"],
    license="Apache-2.0",
    keywords=s["keywords"],
    python_requires=f">={s['min_python']}",
    packages=setuptools.find_packages(include=[s["lib_path"], f"{s['lib_path']}.*"]),
    include_package_data=True,
    install_requires=_list("requirements"),
    extras_require={"dev": _list("dev_requirements")},
    entry_points={
        "console_scripts": _list("console_scripts"),
        "nbdev": [f"{s['lib_path']}={s['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
