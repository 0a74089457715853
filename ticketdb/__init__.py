"""ticketdb: schema-as-code for a MySQL/MariaDB customer-service ticket database."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root: migrations/, procedures/, triggers/, events/ and queries/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
