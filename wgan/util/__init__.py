"""Infrastructure with no GAN in it: atomic files and digests (``files``), the cores a process
may use (``cpus``), TensorFlow's log lines (``quiet``), the allocator setting (``malloc``) and
the console progress line (``progress``)."""
