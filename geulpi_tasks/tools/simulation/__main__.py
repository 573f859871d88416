import sys

from geulpi_tasks.tools.simulation.cli import main

sys.exit(main())
