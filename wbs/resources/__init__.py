"""The enterprise resource pool: resources, roles, their rates, and their assignments to activities.

Like P6's, the pool is one for the whole company: a resource (a person, a machine, a material) or a role
(a kind of person, for planning before names are known) is assigned to activities of any project in the EPS.
Rights follow the projects: a resource's bookings on a project are read only by those who may read the project.
"""
