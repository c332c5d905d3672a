"""Every table's SerDe reads the cited sample logs (enroll/demo/samples/SOURCES.md) into the
columns it declares: the regexes of the load balancers, the delimited flow and CloudFront
logs, the JSON of CloudTrail, Route 53 Resolver and our Firehose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.archive_tables import LogTable
from enroll.query.engine import local_tables
from enroll.query.serde import parse_type, rows

SAMPLES = Path(__file__).resolve().parent.parent / "enroll" / "demo" / "samples"
TABLES = {t.name: t for t in local_tables()}


def read(table: str, sample: str) -> list[dict]:
    t = TABLES[table]
    names = [c.name for c in t.columns]
    body = (SAMPLES / sample).read_bytes()
    return [dict(zip(names, row, strict=True)) for row in rows(t, body)]


def lines(sample: str) -> list[str]:
    return (SAMPLES / sample).read_text().splitlines()


# ---- regex SerDes --------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["alb_access_logs", "nlb_access_logs", "clb_access_logs"])
def test_a_regex_has_one_group_per_column(table):
    """RegexSerDe maps capturing groups to columns one to one."""
    t: LogTable = TABLES[table]
    assert re.compile(t.regex).groups == len(t.columns)


def test_alb_lines_parse_into_their_columns():
    first, _, failed = read("alb_access_logs", "elb.log")
    assert first["type"] == "https"
    assert first["time"] == "2026-11-30T20:58:00.186641Z"
    assert first["elb"] == "app/my-loadbalancer/50dc6c495c0c9188"
    assert (first["client_ip"], first["client_port"]) == ("192.0.2.86", 2817)
    assert (first["target_ip"], first["target_port"]) == ("10.0.0.1", 80)
    assert first["request_processing_time"] == 0.086
    assert (first["elb_status_code"], first["target_status_code"]) == (200, "200")
    assert (first["received_bytes"], first["sent_bytes"]) == (0, 57)
    assert (first["request_verb"], first["request_url"], first["request_proto"]) == (
        "GET",
        "https://www.example.com:443/",
        "HTTP/1.1",
    )
    assert first["user_agent"] == "curl/8.5.0"
    assert first["ssl_protocol"] == "TLSv1.2"
    assert first["actions_executed"] == "authenticate,forward"
    assert first["conn_trace_id"] == "TID_1234abcd5678ef90"
    # A request the load balancer answered itself: no target, -1 timings.
    assert (failed["elb_status_code"], failed["target_ip"], failed["target_port"]) == (
        503,
        "",
        None,
    )
    assert failed["request_processing_time"] == -1.0


def test_fields_aws_adds_later_do_not_null_an_alb_row():
    t = TABLES["alb_access_logs"]
    line = lines("elb.log")[0]
    assert re.fullmatch(t.regex, line)
    for later in (' "-" "-" "-"', ' "www.example.com" "/rewritten" "TransformSuccess" 42'):
        match = re.fullmatch(t.regex, line + later)
        assert match, later
        assert match.group(34) == "TID_1234abcd5678ef90"


def test_nlb_lines_parse_into_their_columns():
    first, second = read("nlb_access_logs", "elb-nlb.log")
    assert (first["type"], first["version"], first["elb"]) == (
        "tls",
        "2.0",
        "net/my-network-loadbalancer/c6e77e28c25b2234",
    )
    assert (first["client_ip"], first["client_port"]) == ("72.21.218.154", 51341)
    assert (first["tcp_connection_time_ms"], first["tls_handshake_time_ms"]) == (5.0, 2.0)
    assert (first["received_bytes"], first["sent_bytes"]) == (98, 246)
    assert first["tls_protocol_version"] == "tlsv12"
    assert first["alpn_fe_protocol"] == "-"
    assert second["alpn_client_preference_list"] == '"h2","http/1.1"'
    assert second["tls_connection_creation_time"] == "2020-04-01T08:51:20"


def test_clb_lines_parse_into_their_columns():
    http, https, tcp, ssl = read("clb_access_logs", "elb-clb.log")
    assert (http["elb_name"], http["request_ip"], http["request_port"]) == (
        "my-loadbalancer",
        "192.168.131.39",
        2817,
    )
    assert (http["elb_response_code"], http["sent_bytes"]) == ("200", 29)
    assert http["url"] == "http://www.example.com:80/"
    assert (https["ssl_cipher"], https["ssl_protocol"]) == ("DHE-RSA-AES128-SHA", "TLSv1.2")
    assert (tcp["request_verb"], tcp["elb_response_code"], tcp["received_bytes"]) == ("-", "-", 82)
    assert ssl["ssl_cipher"] == "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.mark.parametrize(
    ("sample", "own"),
    [
        ("elb.log", "alb_access_logs"),
        ("elb-nlb.log", "nlb_access_logs"),
        ("elb-clb.log", "clb_access_logs"),
    ],
)
def test_a_load_balancer_line_matches_only_its_own_table(sample, own):
    """The three tables read the same folder: another kind's line must read as nulls."""
    for name in ("alb_access_logs", "nlb_access_logs", "clb_access_logs"):
        matched = [bool(re.fullmatch(TABLES[name].regex, line)) for line in lines(sample)]
        assert matched == [name == own] * len(matched), name


def test_a_line_the_regex_does_not_match_is_a_row_of_nulls():
    (row,) = rows(TABLES["alb_access_logs"], b"not an access log line\n")
    assert row == [None] * len(TABLES["alb_access_logs"].columns)


# ---- delimited -----------------------------------------------------------------------------


def test_vpc_flow_logs_skip_the_header_and_read_dashes_as_nulls():
    records = read("vpc_flow_logs", "vpcflowlogs.log")
    assert len(records) == len(lines("vpcflowlogs.log")) - 1
    accepted, rejected, nodata = records[0], records[1], records[2]
    assert accepted == {
        "version": 2,
        "account_id": "111122223333",
        "interface_id": "eni-1235b8ca123456789",
        "srcaddr": "172.31.16.139",
        "dstaddr": "172.31.16.21",
        "srcport": 20641,
        "dstport": 22,
        "protocol": 6,
        "packets": 20,
        "bytes": 4249,
        "start_time": 1418530010,
        "end_time": 1418530070,
        "action": "ACCEPT",
        "log_status": "OK",
    }
    assert (rejected["action"], rejected["dstport"]) == ("REJECT", 3389)
    assert (nodata["log_status"], nodata["srcaddr"], nodata["packets"]) == ("NODATA", "-", None)


def test_cloudfront_skips_both_header_lines_and_reads_tab_separated_fields():
    records = read("cloudfront_logs", "cloudfront.log")
    assert len(records) == len(lines("cloudfront.log")) - 2
    first = records[0]
    assert (first["date"], first["time"], first["location"]) == (
        "2026-11-30",
        "20:58:01",
        "IAD89-P1",
    )
    assert (first["method"], first["uri"], first["status"]) == ("GET", "/index.html", 200)
    assert first["host"] == "d111111abcdef8.cloudfront.net"
    assert isinstance(first["time_taken"], float)
    assert all(
        record["sc_range_end"] is None or isinstance(record["sc_range_end"], int)
        for record in records
    )


# ---- JSON ----------------------------------------------------------------------------------


def test_cloudtrail_reads_each_record_with_nested_identity_and_json_text():
    records = read("cloudtrail", "cloudtrail.json")
    assert len(records) == 5
    root = records[0]
    assert root["useridentity"]["type"] == "Root"
    assert root["useridentity"]["arn"] == "arn:aws:iam::111122223333:root"
    assert root["useridentity"]["sessioncontext"] is None
    assert (root["eventsource"], root["eventname"]) == ("signin.amazonaws.com", "ConsoleLogin")
    assert root["additionaleventdata"] == (
        '{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",'
        '"MobileVersion":"No","MFAUsed":"No"}'
    )
    assert root["requestparameters"] is None
    update = records[2]
    assert update["requestparameters"] == '{"name":"myTrail2"}'
    assert update["errorcode"] == "TrailNotFoundException"
    assert update["useridentity"]["sessioncontext"]["attributes"] == {
        "mfaauthenticated": "false",
        "creationdate": "2016-07-14T19:15:45Z",
    }


def test_resolver_records_keep_answers_and_source_ids():
    allowed, blocked = read("route53_resolver_query_logs", "route53resolver.log")
    assert allowed["query_name"] == "example.com."
    assert allowed["answers"] == [{"rdata": "192.0.2.1", "type": "A", "class": "IN"}]
    assert allowed["srcport"] == 51283
    assert allowed["srcids"] == {
        "instance": "i-0d15cd0d3d0000000",
        "resolver_endpoint": "rslvr-in-0000000000000000",
    }
    assert allowed["firewall_rule_action"] is None
    assert (blocked["firewall_rule_action"], blocked["answers"]) == ("BLOCK", [])


def test_firehose_envelopes_keep_the_log_group_and_events():
    records = read("cloudwatch_logs", "cloudwatchlogs.json")
    assert {r["messagetype"] for r in records} == {"DATA_MESSAGE"}
    lambda_logs = records[0]
    assert lambda_logs["owner"] == "111122223333"
    assert lambda_logs["loggroup"] == "/aws/lambda/orders-api"
    assert lambda_logs["subscriptionfilters"] == ["acme-org-logs-subscription"]
    event = lambda_logs["logevents"][0]
    assert set(event) == {"id", "timestamp", "message"}
    assert isinstance(event["timestamp"], int)
    assert event["message"].startswith("START RequestId:")


def test_every_column_type_is_one_duckdb_knows():
    for table in TABLES.values():
        for column in table.columns:
            assert parse_type(column.type).duckdb(), (table.name, column.name)
