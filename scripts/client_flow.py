#!/usr/bin/env python3
"""Walk the main flow of both oms API surfaces through the Python client that
openapi-python-client generated from openapi/openapi.json.

Run by scripts/client_flow.sh, which generates the client, starts the server and mints the
tokens. Every request goes through the generated `oms_client` package (typed request models,
typed response parsing, `raise_on_unexpected_status=True` so a status code the spec does not
list is a failure too); nothing here builds raw HTTP.

Environment:
  OMS_BASE_URL    http://127.0.0.1:PORT
  OMS_CLIENT_DIR  directory holding the generated `oms_client` package
  OMS_CLIENT_ID   the tenant of the tokens below
  OMS_TOKEN       token for OMS_CLIENT_ID with orders:read orders:write
  OMS_TOKEN_RO    token for OMS_CLIENT_ID with orders:read only
  OMS_TOKEN_OTHER token for another tenant (read + write)

Exit status 0 when every step passed, 1 on the first failure (with what was sent and received).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import uuid
from typing import Any

sys.path.insert(0, os.environ["OMS_CLIENT_DIR"])

import httpx  # noqa: E402

from oms_client import AuthenticatedClient  # noqa: E402
from oms_client.api.fulfillment_orders import (  # noqa: E402
    fulfillment_create_order,
    fulfillment_find_order_statuses,
    fulfillment_find_orders,
    fulfillment_update_order,
    fulfillment_view_order,
)
from oms_client.api.order import (  # noqa: E402
    create_order,
    delete_order_by_id,
    delete_order_item,
    get_order_by_id,
    get_order_history,
    partial_update_order_by_id,
    search_orders,
    update_order_by_id,
)
from oms_client.api.tags import bulk_update_tags, update_tags  # noqa: E402
from oms_client.api.warehouse_oms_extension import (  # noqa: E402
    oms_bulk_start,
    oms_get_fulfilment,
    oms_ship_order,
    oms_start_order,
)
from oms_client.errors import UnexpectedStatus  # noqa: E402
from oms_client.models import (  # noqa: E402
    BulkOut,
    BulkOutcome,
    BulkStartIn,
    BulkStatusIn,
    BulkTagsIn,
    FulfillmentErrors,
    FulfillmentOrder,
    FulfillmentOrderRequest,
    FulfillmentSearchRequest,
    FulfilmentOut,
    HistoryPage,
    OperationResult,
    OrderRef,
    OrderTags,
    SearchOutFulfillmentOrder,
    SearchOutFulfillmentOrderStatus,
    SearchPage,
    SendproError,
    SendproOrder,
    SendproOrderPatch,
    SendproOrderRequest,
    SendproSearchRequest,
    ShipmentIn,
    Status,
    TagsIn,
)
from oms_client.types import Response, Unset  # noqa: E402


class FlowFailure(Exception):
    pass


def check(cond: Any, msg: str) -> None:
    if not cond:
        raise FlowFailure(msg)


def eq(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise FlowFailure(f"{what}: expected {expected!r}, got {actual!r}")


def expect(resp: Response, status: int, model: type, what: str) -> Any:
    """The response has this status and parsed into this generated model."""
    body = resp.content.decode("utf-8", "replace")
    if resp.status_code != status:
        raise FlowFailure(f"{what}: expected HTTP {status}, got {int(resp.status_code)}: {body[:2000]}")
    if not isinstance(resp.parsed, model):
        raise FlowFailure(
            f"{what}: response did not parse as {model.__name__} (got {type(resp.parsed).__name__}): {body[:2000]}"
        )
    return resp.parsed


def txn() -> str:
    """A fresh X-PB-TransactionId (1-25 of [A-Za-z0-9_-])."""
    return "ci-" + uuid.uuid4().hex[:20]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def is_set(v: Any) -> bool:
    return not isinstance(v, Unset) and v is not None


# ---------------------------------------------------------------------------------------------
# Sample bodies: tests/api/common/fixtures.rs (seed 001/003) and tests/api/common/sendpro_fixtures.rs.


def fulfillment_create_body(client_id: str, client_order_id: str) -> dict:
    addr = {
        "name": "John Smith",
        "company": "ABC",
        "phone": "111-111-1111",
        "email": "john@example.com",
        "addressLines": ["2352 Bent Creek Rd"],
        "cityTown": "Auburn",
        "stateProvince": "AL",
        "postalCode": "36830",
        "countryCode": "US",
    }
    return {
        "clientId": client_id,
        "clientOrderId": client_order_id,
        "customerOrderId": "000-111-222-4444",
        "inputShippingDetails": {
            "carrier": "PITNEY BOWES",
            "serviceId": "PARCEL",
            "serviceName": "PARCEL SELECT",
            "trackingNumber": "9561234567",
        },
        "orderType": "eCom",
        "createDate": "2022-02-07T01:20:00Z",
        "fromNode": "160",
        "shipOnDate": "2022-02-08T01:20:00Z",
        "fulfillmentReleaseDate": "2022-02-09T01:20:00Z",
        "promisedDeliveryDate": "2022-02-10T01:20:00Z",
        "orderHandling": "E",
        "orderLines": [
            {
                "lineId": 1,
                "sku": "0001-0001",
                "originCountryCode": "US",
                "originStateProvince": "CT",
                "unitPrice": 10,
                "orderedQuantity": 5,
                "lineTotal": 50,
                "inventoryType": "NEW",
            }
        ],
        "orderCharges": {
            "orderCurrency": "USD",
            "shippingAmount": 10,
            "totalItemAmount": 150,
            "dutyDetails": [{"name": "COUPON", "fee": 5, "currency": "USD", "percentage": 1}],
            "totalTaxAmount": 5,
            "taxDetails": [{"name": "SALES TAX", "fee": 5, "currency": "USD", "percentage": 1}],
            "totalDiscountAmount": 5,
            "discountDetails": [{"name": "COUPON", "fee": 5, "currency": "USD"}],
            "otherChargeDetails": [{"name": "SUPPLIER_FEE", "fee": 0}],
            "totalOrderAmount": 160,
        },
        "toAddress": dict(addr),
        "billingAddress": dict(addr),
    }


def fulfillment_replace_body(client_id: str, client_order_id: str) -> dict:
    body = fulfillment_create_body(client_id, client_order_id)
    body.update(
        {
            "customerOrderId": "111-212-1687792",
            "references": [],
            # seed 001 spells the requested service `shippingDetails` (alias of inputShippingDetails);
            # the spec requires inputShippingDetails, so both are sent, equal
            "inputShippingDetails": {
                "carrier": "PITNEY BOWES",
                "serviceId": "PARCEL",
                "serviceName": "PARCEL SELECT",
                "trackingNumber": "9560533222",
            },
            "shippingDetails": {
                "carrier": "PITNEY BOWES",
                "serviceId": "PARCEL",
                "serviceName": "PARCEL SELECT",
                "trackingNumber": "9560533222",
            },
            "createDate": "2022-01-26T01:20:00Z",
            "isGift": False,
        }
    )
    body["orderLines"][0]["sku"] = "1642787722"
    body["billingAddress"].update(
        {"addressLines": ["643 Greenway Rd"], "cityTown": "Boone", "stateProvince": "NC", "postalCode": "28607"}
    )
    return body


def sendpro_item() -> dict:
    return {
        "customProductId": "string",
        "itemId": "SKU12345",
        "description": "Wireless mouse with USB receiver",
        "hSTariffCode": "847160",
        "hSTariffCodeCountry": "US",
        "originCountryCode": "US",
        "originStateProvince": "",
        "quantity": 2,
        "unitPrice": 25,
        "unitWeight": {"unitOfMeasurement": "OZ", "weight": 12.5},
    }


def sendpro_second_item() -> dict:
    return {
        "itemId": "SKU67890",
        "description": "USB-C charging cable",
        "hSTariffCode": "854442",
        "hSTariffCodeCountry": "CN",
        "originCountryCode": "CN",
        "originStateProvince": "GD",
        "quantity": 1,
        "unitPrice": 40,
        "unitWeight": {"unitOfMeasurement": "OZ", "weight": 3},
    }


def sendpro_create_body(order_number: str) -> dict:
    return {
        "orderNumber": order_number,
        "orderMessage": {"type": "GIFT", "message": "Happy Birthday! Enjoy your gift."},
        "metadata": [
            {"name": "costAccountName", "value": "costAccountName12"},
            {"name": "costAccountId", "value": "costAccountId12"},
            {"name": "costAccountCode", "value": "Code12"},
        ],
        "charges": {
            "currency": "USD",
            "billingStatus": "Paid",
            "gmv": 100,
            "subTotal": 90,
            "totalPaid": 100,
            "paymentType": "Credit Card",
        },
        "shippingReference": {
            "reference1": "reference1",
            "shipperReference": "Shipper123",
            "shippingNotes": "Handle with care",
        },
        "customerInfo": {
            "firstName": "John",
            "lastName": "Doe",
            "email": "john.doe@example.com",
            "customerId": "CUST12345",
        },
        "fromAddress": {
            "name": "Warehouse A",
            "company": "Company Name",
            "addressLine1": "638 Manitoba Ave",
            "addressLine2": "Apt 4B",
            "addressLine3": "Near City Park",
            "cityTown": "Winnipeg",
            "stateProvince": "MB",
            "postalCode": "R2W 2H2",
            "countryCode": "CA",
            "phone": "1234567890",
            "email": "warehouse@email.com",
            "residential": False,
        },
        "toAddress": {
            "name": "Jane Smith",
            "company": "Company ABC",
            "addressLine1": "1822 Franklin Street",
            "addressLine2": "3010 Summer Street",
            "addressLine3": "Near City Park",
            "cityTown": "Vancouver",
            "stateProvince": "BC",
            "postalCode": "V5L 1P8",
            "countryCode": "CA",
            "phone": "9876543210",
            "email": "jane.smith@example.com",
            "residential": True,
        },
        "items": [sendpro_item(), sendpro_second_item()],
        "additionalAddresses": [
            {
                "addressType": "RETURN",
                "name": "Returns Desk",
                "addressLine1": "638 Manitoba Ave",
                "cityTown": "Winnipeg",
                "stateProvince": "MB",
                "postalCode": "R2W 2H2",
                "countryCode": "CA",
            }
        ],
        "shippingPreferences": {
            "carrier": "UPS",
            "parcelType": "PKG",
            "service": "2DA",
            "parcel": {"length": 2, "width": 1, "height": 1, "dimUnit": "IN", "weightUnit": "OZ", "weight": 2},
        },
    }


# ---------------------------------------------------------------------------------------------


class Flow:
    def __init__(self) -> None:
        self.base_url = os.environ["OMS_BASE_URL"]
        self.client_id = os.environ["OMS_CLIENT_ID"]
        self.api = self._client(os.environ["OMS_TOKEN"])
        self.api_ro = self._client(os.environ["OMS_TOKEN_RO"])
        self.api_other = self._client(os.environ["OMS_TOKEN_OTHER"])
        self.steps = 0

    def _client(self, token: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=self.base_url,
            token=token,
            raise_on_unexpected_status=True,
            timeout=httpx.Timeout(30.0),
        )

    def step(self, name: str, fn) -> Any:
        started = time.monotonic()
        try:
            out = fn()
        except FlowFailure as e:
            print(f"  FAIL  {name}: {e}", flush=True)
            raise
        except UnexpectedStatus as e:
            body = e.content.decode("utf-8", "replace")[:2000]
            print(f"  FAIL  {name}: HTTP {e.status_code} is not in the spec's responses: {body}", flush=True)
            raise FlowFailure(name) from e
        except Exception as e:  # a parse error in the generated models is a failure too
            print(f"  FAIL  {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
            raise FlowFailure(name) from e
        self.steps += 1
        print(f"  ok    {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
        return out

    # --- Fulfillment ----------------------------------------------------------------------------

    def fulfillment(self) -> str:
        print("Fulfillment (/shippingservices/fulfillment/v1):", flush=True)
        cid = self.client_id
        coid = unique("CIF")
        create_txn = txn()
        create_body = FulfillmentOrderRequest.from_dict(fulfillment_create_body(cid, coid))

        def create() -> FulfillmentOrder:
            r = fulfillment_create_order.sync_detailed(
                client=self.api, body=create_body, x_pb_transaction_id=create_txn
            )
            o = expect(r, 201, FulfillmentOrder, "create")
            check(o.order_id.startswith("ORA") and o.order_id.endswith("US"), f"orderId format: {o.order_id!r}")
            eq(len(o.order_id), 3 + 19 + 2, "orderId length")
            eq(o.client_id, cid, "clientId")
            eq(o.client_order_id, coid, "clientOrderId")
            eq(o.status, Status.RECEIVED, "status")
            eq(o.is_on_hold, False, "isOnHold")
            eq(o.order_type.value, "eCom", "orderType")
            eq(o.order_handling.value, "E", "orderHandling")
            eq(len(o.order_lines), 1, "orderLines")
            eq(o.order_lines[0].sku, "0001-0001", "orderLines[0].sku")
            eq(o.order_lines[0].ordered_quantity, 5, "orderLines[0].orderedQuantity")
            eq(o.order_lines[0].line_total, 50, "orderLines[0].lineTotal")
            eq(o.to_address.postal_code, "36830", "toAddress.postalCode")
            eq(o.input_shipping_details.tracking_number, "9561234567", "inputShippingDetails.trackingNumber")
            eq(o.order_charges.total_order_amount, 160, "orderCharges.totalOrderAmount")
            check(o.pb_create_date.tzinfo is not None, "pbCreateDate has a UTC offset")
            eq(r.headers.get("X-PB-TransactionId"), create_txn, "X-PB-TransactionId echoed")
            return o

        created = self.step("create (POST /orders) -> 201", create)
        oid = created.order_id

        def replay() -> None:
            r = fulfillment_create_order.sync_detailed(
                client=self.api, body=create_body, x_pb_transaction_id=create_txn
            )
            o = expect(r, 201, FulfillmentOrder, "idempotent replay")
            eq(o.order_id, oid, "replayed orderId")

        self.step("create replay, same X-PB-TransactionId + body -> same order", replay)

        def duplicate() -> None:
            r = fulfillment_create_order.sync_detailed(client=self.api, body=create_body, x_pb_transaction_id=txn())
            e = expect(r, 409, FulfillmentErrors, "duplicate clientOrderId")
            check(e.errors and e.errors[0].error_code, "409 carries an errorCode")

        self.step("create, same clientOrderId, new transaction -> 409", duplicate)

        def read_only_create() -> None:
            body = FulfillmentOrderRequest.from_dict(fulfillment_create_body(cid, unique("CIF")))
            r = fulfillment_create_order.sync_detailed(client=self.api_ro, body=body, x_pb_transaction_id=txn())
            expect(r, 403, FulfillmentErrors, "create with an orders:read token")

        self.step("create with orders:read only -> 403", read_only_create)

        def view() -> None:
            r = fulfillment_view_order.sync_detailed(oid, client=self.api, client_id=cid, x_pb_transaction_id=txn())
            o = expect(r, 200, FulfillmentOrder, "view")
            eq(o.order_id, oid, "orderId")
            eq(o.client_order_id, coid, "clientOrderId")
            eq(o.customer_order_id, "000-111-222-4444", "customerOrderId")
            eq(o.billing_address.city_town, "Auburn", "billingAddress.cityTown")
            eq(o.pb_create_date, created.pb_create_date, "pbCreateDate")

        self.step("view (GET /orders/{orderId}?clientId=) -> 200", view)

        def view_other_tenant() -> None:
            r = fulfillment_view_order.sync_detailed(
                oid, client=self.api_other, client_id="ci-other", x_pb_transaction_id=txn()
            )
            expect(r, 404, FulfillmentErrors, "view as another tenant")

        self.step("view as another tenant -> 404", view_other_tenant)

        coid2 = unique("CIF")

        def replace() -> None:
            body = FulfillmentOrderRequest.from_dict(fulfillment_replace_body(cid, coid2))
            r = fulfillment_update_order.sync_detailed(oid, client=self.api, body=body, x_pb_transaction_id=txn())
            o = expect(r, 200, FulfillmentOrder, "replace")
            eq(o.order_id, oid, "orderId unchanged")
            eq(o.client_order_id, coid2, "clientOrderId replaced")
            eq(o.customer_order_id, "111-212-1687792", "customerOrderId replaced")
            eq(o.billing_address.city_town, "Boone", "billingAddress.cityTown replaced")
            eq(o.billing_address.address_lines, ["643 Greenway Rd"], "billingAddress.addressLines")
            eq(o.order_lines[0].sku, "1642787722", "orderLines[0].sku replaced")
            eq(o.is_gift, False, "isGift")
            # `shippingDetails` is the alias of `inputShippingDetails`, returned under both names
            eq(o.input_shipping_details.tracking_number, "9560533222", "inputShippingDetails.trackingNumber")
            eq(o.shipping_details.tracking_number, "9560533222", "shippingDetails.trackingNumber")
            eq(o.pb_create_date, created.pb_create_date, "pbCreateDate unchanged")
            check(o.pb_update_date >= created.pb_update_date, "pbUpdateDate moved forward")
            eq(o.status, Status.RECEIVED, "status")

        self.step("replace (PUT /orders/{orderId}) -> 200", replace)

        def view_after_replace() -> None:
            r = fulfillment_view_order.sync_detailed(oid, client=self.api, client_id=cid, x_pb_transaction_id=txn())
            o = expect(r, 200, FulfillmentOrder, "view after replace")
            eq(o.billing_address.city_town, "Boone", "billingAddress.cityTown persisted")
            eq(o.client_order_id, coid2, "clientOrderId persisted")

        self.step("view after replace shows the new body", view_after_replace)

        def search() -> None:
            body = FulfillmentSearchRequest.from_dict(
                {
                    "clientId": cid,
                    "sort": ["createDate-asc"],
                    "searchFields": [
                        {"name": "status", "values": ["Received", "CANCELED"]},
                        {"name": "ordertype", "values": ["eCom"]},
                        {"name": "orders", "values": [oid]},
                    ],
                }
            )
            r = fulfillment_find_orders.sync_detailed(
                client=self.api, body=body, page=1, size=20, x_pb_transaction_id=txn()
            )
            s = expect(r, 200, SearchOutFulfillmentOrder, "search")
            eq(s.total_elements, 1, "totalElements")
            eq(s.page, 1, "page")
            eq(s.size, 20, "size")
            eq(s.first, True, "first")
            eq(s.last, True, "last")
            eq([o.order_id for o in s.orders], [oid], "orders[].orderId")
            eq(s.orders[0].client_order_id, coid2, "orders[0].clientOrderId")

            # by clientOrderId, and one that matches nothing
            body = FulfillmentSearchRequest.from_dict(
                {"clientId": cid, "searchFields": [{"name": "clientOrderId", "values": [coid2]}]}
            )
            r = fulfillment_find_orders.sync_detailed(client=self.api, body=body, x_pb_transaction_id=txn())
            s = expect(r, 200, SearchOutFulfillmentOrder, "search by clientOrderId")
            eq([o.order_id for o in s.orders], [oid], "search by clientOrderId")
            body = FulfillmentSearchRequest.from_dict(
                {"clientId": cid, "searchFields": [{"name": "clientOrderId", "values": [coid]}]}
            )
            r = fulfillment_find_orders.sync_detailed(client=self.api, body=body, x_pb_transaction_id=txn())
            s = expect(r, 200, SearchOutFulfillmentOrder, "search by the replaced clientOrderId")
            eq(s.total_elements, 0, "the old clientOrderId no longer matches")

        self.step("search (POST /orders/search) -> 200", search)

        def status_search() -> None:
            body = FulfillmentSearchRequest.from_dict(
                {
                    "clientId": cid,
                    "sort": ["pbCreateDate-desc"],
                    "searchFields": [{"name": "status", "values": ["RECEIVED"]}, {"name": "orderId", "values": [oid]}],
                }
            )
            r = fulfillment_find_order_statuses.sync_detailed(client=self.api, body=body, x_pb_transaction_id=txn())
            s = expect(r, 200, SearchOutFulfillmentOrderStatus, "status search")
            eq(s.total_elements, 1, "totalElements")
            o = s.orders[0]
            eq(o.order_id, oid, "orderId")
            eq(o.client_order_id, coid2, "clientOrderId")
            eq(o.status, Status.RECEIVED, "status")
            eq(o.is_on_hold, False, "isOnHold")
            raw = json.loads(r.content)["orders"][0]
            check(
                "orderLines" not in raw and "toAddress" not in raw,
                f"status search returns the subset only: {sorted(raw)}",
            )

        self.step("status search (POST /orders/status/search) -> 200", status_search)

        def bad_search() -> None:
            body = FulfillmentSearchRequest.from_dict({"clientId": cid, "sort": ["nope-asc"]})
            r = fulfillment_find_orders.sync_detailed(client=self.api, body=body, x_pb_transaction_id=txn())
            expect(r, 400, FulfillmentErrors, "search with an unknown sort property")

        self.step("search with an unknown sort property -> 400", bad_search)

        def cross_surface() -> None:
            r = get_order_by_id.sync_detailed(oid, client=self.api)
            o = expect(r, 200, SendproOrder, "SendPro360 GET of a Fulfillment order")
            eq(o.order_info.order_number, coid2, "orderNumber = clientOrderId")
            eq(o.order_info.status, "UNFULFILLED", "status in SendPro360 words")
            eq(o.order_shipping_info.to_address.address_line_1, "2352 Bent Creek Rd", "toAddress.addressLine1")

        self.step("the same order through SendPro360 GET", cross_surface)
        return oid

    # --- SendPro360 -----------------------------------------------------------------------------

    def sendpro(self) -> None:
        print("SendPro360 (/ordermanagement/api/v1):", flush=True)
        number = unique("CIS")
        idem = "ci-idem-" + uuid.uuid4().hex

        def create() -> OperationResult:
            body = SendproOrderRequest.from_dict(sendpro_create_body(number))
            r = create_order.sync_detailed(client=self.api, body=body, idempotency_key=idem)
            res = expect(r, 200, OperationResult, "create")
            check(res.order_id.startswith("PB") and len(res.order_id) == 12, f"orderId format: {res.order_id!r}")
            eq(res.order_number, number, "orderNumber")
            return res

        created = self.step("create (POST /orders) -> 200", create)
        oid = created.order_id

        def create_second() -> str:
            body = SendproOrderRequest.from_dict(sendpro_create_body(unique("CIS")))
            r = create_order.sync_detailed(client=self.api, body=body)
            return expect(r, 200, OperationResult, "create second").order_id

        oid2 = self.step("create a second order -> 200", create_second)

        def get() -> str:
            r = get_order_by_id.sync_detailed(oid, client=self.api)
            o = expect(r, 200, SendproOrder, "get")
            info = o.order_info
            eq(info.order_id, oid, "orderInfo.orderId")
            eq(info.order_number, number, "orderInfo.orderNumber")
            eq(info.status, "UNFULFILLED", "orderInfo.status")
            eq([i.item_id for i in info.items], ["SKU12345", "SKU67890"], "orderInfo.items[].itemId")
            eq([i.quantity for i in info.items], [2, 1], "orderInfo.items[].quantity")
            eq(info.charges.sub_total, 90, "orderInfo.charges.subTotal")
            eq(info.tag_ids, [], "orderInfo.tagIds")
            ship = o.order_shipping_info
            eq(ship.to_address.city_town, "Vancouver", "toAddress.cityTown")
            eq(ship.from_address.address_line_2, "Apt 4B", "fromAddress.addressLine2")
            etag = r.headers.get("ETag")
            check(etag, "GET returns an ETag header")
            return etag

        etag = self.step("get (GET /orders/{orderId}) -> 200 with ETag", get)

        def patch() -> str:
            body = SendproOrderPatch.from_dict(
                {"toAddress": {"name": "Jane Q. Smith"}, "orderMessage": {"type": "NOTE", "message": "Leave at door"}}
            )
            r = partial_update_order_by_id.sync_detailed(oid, client=self.api, body=body, if_match=etag)
            res = expect(r, 200, OperationResult, "patch")
            eq(res.order_id, oid, "orderId")
            eq(res.status, "Updated", "status")
            new_etag = r.headers.get("ETag")
            check(new_etag and new_etag != etag, f"PATCH returns a new ETag (old {etag!r}, new {new_etag!r})")
            return new_etag

        new_etag = self.step("patch (PATCH /orders/{orderId}, If-Match) -> 200", patch)

        def patch_stale() -> None:
            body = SendproOrderPatch.from_dict({"toAddress": {"name": "Lost Update"}})
            r = partial_update_order_by_id.sync_detailed(oid, client=self.api, body=body, if_match=etag)
            expect(r, 412, SendproError, "patch with a stale If-Match")

        self.step("patch with the stale ETag -> 412", patch_stale)

        def get_after_patch() -> None:
            r = get_order_by_id.sync_detailed(oid, client=self.api)
            o = expect(r, 200, SendproOrder, "get after patch")
            eq(o.order_shipping_info.to_address.name, "Jane Q. Smith", "toAddress.name patched")
            eq(o.order_shipping_info.to_address.city_town, "Vancouver", "toAddress.cityTown kept (merge)")
            eq(o.order_info.order_message.to_dict(), {"type": "NOTE", "message": "Leave at door"}, "orderMessage")
            eq(len(o.order_info.items), 2, "items kept")
            eq(r.headers.get("ETag"), new_etag, "ETag of GET = ETag returned by PATCH")

        self.step("get after patch shows the merge", get_after_patch)

        def search() -> None:
            body = SendproSearchRequest.from_dict(
                {"filters": [{"name": "orderNumber", "value": [number]}], "page": 0, "size": 20}
            )
            r = search_orders.sync_detailed(client=self.api, body=body)
            s = expect(r, 200, SearchPage, "search")
            eq(s.total_elements, 1, "totalElements")
            eq(s.total_pages, 1, "totalPages")
            eq(s.page, 0, "page")
            eq(s.orders[0].order_info.order_id, oid, "orders[0].orderInfo.orderId")
            body = SendproSearchRequest.from_dict(
                {"filters": [{"name": "orderId", "value": [oid, oid2]}, {"name": "itemId", "value": ["SKU67890"]}]}
            )
            r = search_orders.sync_detailed(client=self.api, body=body)
            s = expect(r, 200, SearchPage, "search by orderId + itemId")
            eq(sorted(o.order_info.order_id for o in s.orders), sorted([oid, oid2]), "orderId OR, itemId AND")

        self.step("search (POST /orders/search) -> 200", search)

        def tags() -> None:
            r = update_tags.sync_detailed(oid, client=self.api, body=TagsIn(tag_ids=["vip", "gift"]))
            res = expect(r, 200, OperationResult, "tags")
            eq(res.order_id, oid, "orderId")
            eq(sorted(res.tag_ids), ["gift", "vip"], "tagIds")
            r = get_order_by_id.sync_detailed(oid, client=self.api)
            eq(sorted(expect(r, 200, SendproOrder, "get").order_info.tag_ids), ["gift", "vip"], "GET tagIds")

        self.step("tags (PUT /orders/{orderId}/tags) -> 200", tags)

        def bulk_tags() -> None:
            body = BulkTagsIn(
                tags=[OrderTags(order_id=oid, tag_ids=["vip", "bulk"]), OrderTags(order_id=oid2, tag_ids=["bulk"])]
            )
            r = bulk_update_tags.sync_detailed(client=self.api, body=body)
            res = expect(r, 200, BulkOutcome, "bulk tags")
            eq(sorted((x.order_id, x.success) for x in res.results), sorted([(oid, True), (oid2, True)]), "results")
            body = SendproSearchRequest.from_dict({"filters": [{"name": "tagIds", "value": ["bulk"]}]})
            s = expect(search_orders.sync_detailed(client=self.api, body=body), 200, SearchPage, "search by tag")
            eq(sorted(o.order_info.order_id for o in s.orders), sorted([oid, oid2]), "search by tagIds")
            o = expect(get_order_by_id.sync_detailed(oid2, client=self.api), 200, SendproOrder, "get")
            eq(o.order_info.tag_ids, ["bulk"], "second order's tagIds")

        self.step("bulk tags (PUT /orders/bulkTags) -> 200", bulk_tags)

        def bulk_status() -> None:
            missing = "PBnotAnOrder"
            body = BulkStatusIn(
                orders=[OrderRef(order_id=oid), OrderRef(order_id=oid2), OrderRef(order_id=missing)],
                status="ONHOLD",
                reason="address check",
            )
            r = update_order_by_id.sync_detailed(client=self.api, body=body)
            res = expect(r, 200, BulkOutcome, "bulk status")
            by_id = {x.order_id: x for x in res.results}
            eq(by_id[oid].success, True, f"results[{oid}].success")
            eq(by_id[oid2].success, True, f"results[{oid2}].success")
            eq(by_id[missing].success, False, "results[missing].success")
            check(is_set(by_id[missing].error), "the missing order's result carries an error")
            for x in (oid, oid2):
                o = expect(get_order_by_id.sync_detailed(x, client=self.api), 200, SendproOrder, "get")
                eq(o.order_info.status, "ONHOLD", f"{x} status after bulk status")
            # and back, so the order can still change
            body = BulkStatusIn(orders=[OrderRef(order_id=oid)], status="UNFULFILLED")
            res = expect(update_order_by_id.sync_detailed(client=self.api, body=body), 200, BulkOutcome, "release")
            eq([(x.order_id, x.success) for x in res.results], [(oid, True)], "release results")
            o = expect(get_order_by_id.sync_detailed(oid, client=self.api), 200, SendproOrder, "get")
            eq(o.order_info.status, "UNFULFILLED", "status after release")

        self.step("bulk status (PATCH /orders/bulk/status) -> 200, per-order results", bulk_status)

        def delete_item() -> None:
            r = delete_order_item.sync_detailed(oid, client=self.api, item_id="SKU67890")
            res = expect(r, 200, OperationResult, "delete item")
            eq(res.order_id, oid, "orderId")
            eq(res.status, "Updated", "status")
            o = expect(get_order_by_id.sync_detailed(oid, client=self.api), 200, SendproOrder, "get")
            eq([i.item_id for i in o.order_info.items], ["SKU12345"], "items after delete")
            r = delete_order_item.sync_detailed(oid, client=self.api, item_id="SKU67890")
            expect(r, 404, SendproError, "delete the same item again")

        self.step("delete item (DELETE /orders/{orderId}/items?itemId=) -> 200", delete_item)

        def history() -> None:
            r = get_order_history.sync_detailed(oid, client=self.api)
            h = expect(r, 200, HistoryPage, "history")
            kinds = [e.type_.value for e in h.events]
            check(kinds and kinds[0] == "created", f"history starts with created: {kinds}")
            check("item_removed" in kinds and "tags_changed" in kinds, f"history kinds: {kinds}")

        self.step("history (GET /orders/{orderId}/history) -> 200", history)

        def delete() -> None:
            r = delete_order_by_id.sync_detailed(oid, client=self.api_ro)
            expect(r, 403, SendproError, "delete with an orders:read token")
            r = delete_order_by_id.sync_detailed(oid, client=self.api)
            res = expect(r, 200, OperationResult, "delete")
            eq(res.order_id, oid, "orderId")
            eq(res.status, "Deleted", "status")
            expect(get_order_by_id.sync_detailed(oid, client=self.api), 404, SendproError, "get after delete")
            expect(delete_order_by_id.sync_detailed(oid, client=self.api), 404, SendproError, "delete again")
            body = SendproSearchRequest.from_dict({"filters": [{"name": "orderNumber", "value": [number]}]})
            s = expect(search_orders.sync_detailed(client=self.api, body=body), 200, SearchPage, "search")
            eq(s.total_elements, 0, "deleted order is gone from search")
            # the orderNumber is free again
            body = SendproOrderRequest.from_dict(sendpro_create_body(number))
            res = expect(create_order.sync_detailed(client=self.api, body=body), 200, OperationResult, "re-create")
            check(res.order_id != oid, "a new order id for the re-used orderNumber")

        self.step("delete (DELETE /orders/{orderId}) -> 200, then 404", delete)


def warehouse(flow: Flow) -> None:
    """oms's extension API: start an order, ship part of it, read its fulfilment state, bulk."""
    print("Warehouse (/oms/v1/orders):", flush=True)
    api = flow.api
    cid = flow.client_id
    body = FulfillmentOrderRequest.from_dict(fulfillment_create_body(cid, unique("CIW")))
    r = fulfillment_create_order.sync_detailed(client=api, body=body, x_pb_transaction_id=txn())
    oid = expect(r, 201, FulfillmentOrder, "create for the warehouse").order_id

    def start() -> None:
        r = oms_start_order.sync_detailed(oid, client=api)
        f = expect(r, 200, FulfilmentOut, "start")
        eq(f.status, Status.INPROGRESS, "status after start")

    flow.step("start (POST /oms/v1/orders/{orderId}/start) -> 200", start)

    def ship_part() -> None:
        shipment = ShipmentIn.from_dict(
            {"carrier": "USPS", "trackingNumber": unique("T"), "lines": [{"sku": "0001-0001", "quantity": 2}]}
        )
        r = oms_ship_order.sync_detailed(oid, client=api, body=shipment)
        f = expect(r, 201, FulfilmentOut, "ship")
        eq(f.status, Status.INPROGRESS, "status after a partial shipment")
        eq(f.lines[0].shipped_quantity, 2, "lines[0].shippedQuantity")
        eq(len(f.shipments), 1, "shipments")

    flow.step("ship part (POST /oms/v1/orders/{orderId}/shipments) -> 201", ship_part)

    def read() -> None:
        r = oms_get_fulfilment.sync_detailed(oid, client=api)
        f = expect(r, 200, FulfilmentOut, "fulfilment")
        eq(f.lines[0].ordered_quantity - f.lines[0].shipped_quantity, 3, "units left")
        r = fulfillment_view_order.sync_detailed(oid, client=api, client_id=cid, x_pb_transaction_id=txn())
        o = expect(r, 200, FulfillmentOrder, "view after shipping")
        eq(o.actual_shipping_details.carrier, "USPS", "actualShippingDetails.carrier")

    flow.step("fulfilment state and actualShippingDetails -> 200", read)

    def bulk() -> None:
        body = BulkStartIn.from_dict({"orders": [{"orderId": oid}, {"orderId": "ORA404"}]})
        r = oms_bulk_start.sync_detailed(client=api, body=body)
        b = expect(r, 200, BulkOut, "bulk start")
        eq((b.succeeded, b.failed), (1, 1), "succeeded, failed")
        eq(b.results[1].error.error_code, "not_found", "results[1].error.errorCode")

    flow.step("bulk start, one unknown order (POST /oms/v1/orders/bulk/start) -> 200", bulk)


def main() -> int:
    started = time.monotonic()
    flow = Flow()
    try:
        flow.fulfillment()
        flow.sendpro()
        warehouse(flow)
    except FlowFailure:
        print(f"client flow FAILED after {flow.steps} passing steps", flush=True)
        return 1
    print(f"client flow passed: {flow.steps} steps in {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
