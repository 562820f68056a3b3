"""The person index's JSON API: each feature's operations are in a module of this package, each with its own router
(registered in mash.site.api)."""
