"""Surveys and satisfaction (满意度, domain §6): templates, invitations and answers
(``model``), and the honest scores computed from the answers (``scores``)."""
