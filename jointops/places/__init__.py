"""Places: where operations and appointments happen.

Operations are placed by an address search that runs on the server (``geocoder``, one adapter
a module, chosen by ``JOINTOPS_GEOCODER`` in ``choice``; answers cached in ``cache``; every
lookup audited by ``lookup``). Appointments take a known place kept by administrators
(``known``) or typed words: those never reach a geocoder, a feed or deconfliction.
"""
