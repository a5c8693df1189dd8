"""Site-wide pages live in the domain apps (customers.views); web holds the layout, login and static."""
