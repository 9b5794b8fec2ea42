"""Work breakdown structures, activities and the CPM scheduler."""
