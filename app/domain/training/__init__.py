"""Staff training (员工培训): courses, sessions, completions and the competence rules."""
