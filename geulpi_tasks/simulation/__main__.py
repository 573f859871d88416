import sys

from geulpi_tasks.simulation.cli import main

sys.exit(main())
