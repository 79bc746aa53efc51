"""Packaging for nnviz_tb: Keras callbacks plus a dynamically loaded TensorBoard tab."""

import setuptools

# CPU-only TensorFlow keeps the development install small; users with a GPU
# install `nnviz_tb[tf]` (plain `tensorflow`) instead.
TF_CPU = [
    "tensorflow-cpu>=2.15; platform_machine == 'x86_64'",
    "tensorflow>=2.15; platform_machine != 'x86_64'",
]
DEV_REQUIRES = TF_CPU + ["pytest>=7", "selenium>=4.10", "hypothesis>=6.100"]

setuptools.setup(
    name="nnviz_tb",
    version="0.1.0",
    description="See the hidden activity of a Keras network in a TensorBoard tab.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=setuptools.find_packages(include=["nnviz_tb", "nnviz_tb.*"])
    + ["nnviz_tb.plugin_frontend"],
    package_dir={"nnviz_tb.plugin_frontend": "plugin_frontend"},
    package_data={"nnviz_tb.plugin_frontend": ["*.js", "*.css", "views/*.js"]},
    install_requires=[
        "numpy>=1.23",
        "protobuf>=3.20",
        "scikit-learn>=1.2",
        "openTSNE>=1.0",
        "tensorboard>=2.15",
        "pillow>=9",
    ],
    extras_require={
        # The callbacks need TensorFlow; the TensorBoard tab does not.
        "tf": ["tensorflow>=2.15"],
        "dev": DEV_REQUIRES,
        "test": DEV_REQUIRES,
    },
    entry_points={
        "console_scripts": ["nnviz-tb = nnviz_tb.precompute:main"],
        "tensorboard_plugins": [
            "nnviz = nnviz_tb.plugin.nnviz_plugin:NnvizPlugin",
        ],
    },
)
