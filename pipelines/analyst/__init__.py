"""For analysts: the contract views over the warehouse and every release, read-only queries, the
notebooks' helpers, frozen releases and the differences between two.

Modules: `views`, `query`, `analysis`, `releases`, `diff`.
"""
