"""The one place where personal and secret data is masked (LGPD art. 6 III, art. 46).

Logs, recorded corpora and shadow differences all pass through this package; nothing
else in the proxy decides what is personal. Three jobs, one module each:

* ``scrub``       free text: personal data found by its *shape* (``mask_text``,
                  ``find_personal_data``).
* ``masking``     structured data: masked by field *name* (``mask_value``,
                  ``mask_mapping``), falling back to ``scrub`` for names not known.
* ``pseudonyms``  keyed stand-ins of the same kind (``pseudonym``,
                  ``pseudonymise_mapping``) for replay corpora.

Both ``masking`` and ``pseudonyms`` read the one table of personal fields
(``fields``); the shapes they share are in ``shapes`` and the CPF/CNPJ check digits,
from ``stdnum``, in ``documents``.
"""

from __future__ import annotations

from proxy.privacy.documents import cpf_check_digits
from proxy.privacy.masking import mask_mapping, mask_value
from proxy.privacy.pseudonyms import (
    PLACEHOLDER_ADDRESS,
    PLACEHOLDER_BIRTHDATE,
    PLACEHOLDER_NAME,
    pseudonym,
    pseudonymise_mapping,
    pseudonymous_cnpj,
    pseudonymous_cpf,
    pseudonymous_digits,
    pseudonymous_email,
    pseudonymous_phone,
    secret_fields,
)
from proxy.privacy.scrub import PERSONAL_DATA_KINDS, PersonalDataKind, find_personal_data, mask_text
from proxy.privacy.shapes import MASK

__all__ = [
    "MASK",
    "PERSONAL_DATA_KINDS",
    "PLACEHOLDER_ADDRESS",
    "PLACEHOLDER_BIRTHDATE",
    "PLACEHOLDER_NAME",
    "PersonalDataKind",
    "cpf_check_digits",
    "find_personal_data",
    "mask_mapping",
    "mask_text",
    "mask_value",
    "pseudonym",
    "pseudonymise_mapping",
    "pseudonymous_cnpj",
    "pseudonymous_cpf",
    "pseudonymous_digits",
    "pseudonymous_email",
    "pseudonymous_phone",
    "secret_fields",
]
