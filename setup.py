"""Install the wgan toolkit: ``pip install -e .`` (add ``[test]`` for the test suite)."""

from setuptools import find_packages, setup

setup(
    name="wgan",
    version="0.1.0",
    description="DCGAN, WGAN and WGAN-GP image generators for TensorFlow 2 with TFRecord data, "
    "TensorBoard logging and versioned checkpoints.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["wgan", "wgan.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16,<3",
        "tensorboard",
        "pillow",
        "absl-py",
        "numpy",
        "scipy",  # .mat files (SVHN), matrix square root for FID
        "scikit-learn",  # the bundled offline digits, swiss roll
        "matplotlib",  # toy 2-D frames with critic contours
    ],
    extras_require={"test": ["pytest>=7", "pytest-xdist>=3"]},  # xdist: tests/conftest.py
    entry_points={
        "console_scripts": [
            "wgan-build-tfrecord = wgan.cli.build_tfrecord:run_cli",
            "wgan-train = wgan.cli.train:run_cli",
            "wgan-generate = wgan.cli.generate_img:run_cli",
            "wgan-evaluate = wgan.cli.evaluate:run_cli",
            "wgan-study = wgan.cli.study:run_cli",
            "wgan-benchmark = wgan.cli.benchmark:run_cli",
        ]
    },
)
