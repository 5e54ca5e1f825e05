"""Account IDs that Amazon Redshift uses when it calls other AWS services for a customer.

Source: "Amazon Redshift account IDs in AWS CloudTrail logs" in the Redshift management guide
(tests/data/reference/redshift-logging-with-cloudtrail.txt). Account IDs are strings: some start with 0.
"""

from types import MappingProxyType

SERVICE_ACCOUNT_REGIONS = MappingProxyType(
    {
        "368064434614": "us-east-1",
        "790247189693": "us-east-2",
        "703715109447": "us-west-1",
        "473191095985": "us-west-2",
        "420376844563": "af-south-1",
        "651179539253": "ap-east-1",
        "297058826802": "ap-south-2",
        "623197973179": "ap-southeast-3",
        "945512339897": "ap-southeast-4",
        "408097707231": "ap-south-1",
        "398671365691": "ap-northeast-3",
        "713597048934": "ap-northeast-2",
        "960118270566": "ap-southeast-1",
        "485979073181": "ap-southeast-2",
        "615915377779": "ap-northeast-1",
        "764870610256": "ca-central-1",
        "830903446466": "ca-west-1",
        "434091160558": "eu-central-1",
        "246478207311": "eu-west-1",
        "885798887673": "eu-west-2",
        "041313461515": "eu-south-1",
        "694668203235": "eu-west-3",
        "028811157404": "eu-south-2",
        "553461782468": "eu-north-1",
        "668912161003": "eu-central-2",
        "901883065212": "il-central-1",
        "051362938876": "me-south-1",
        "595013617770": "me-central-1",
        "392442076723": "sa-east-1",
    }
)
"""Redshift service account ID → the region it serves."""


def service_account_region(account_id: object) -> str | None:
    """The region whose Redshift service account this is, or None."""
    if not isinstance(account_id, str):
        return None
    return SERVICE_ACCOUNT_REGIONS.get(account_id)
