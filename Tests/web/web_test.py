"""The citizens' web page and JSON API against the real binary, in a real browser.

It starts `postal-gateway serve` on free loopback ports (its web address on HTTPS with the
development CA) with an SMS provider configured (a real receiver on loopback), registers two
shipments over gRPC as staff, then checks:

* the OpenAPI document: the committed one is what proto/ gives, it is served, it validates, and
  every JSON answer (and problem) validates against it;
* POST /v1/track answers exactly what TrackingService.TrackShipment answers, in both languages;
* the security headers, and no-store on personal pages;
* in Chromium (Debian's, driven by Selenium), on a 360-pixel-wide window and with the keyboard
  alone: the form, the state in Vietnamese, the language switch, the notification choice, the
  receipt download (then checked offline), the wrong-code message, the throttling message; no
  horizontal scrolling; axe-core finds no serious or critical violation on any of these pages.

Usage: python3 Tests/web/web_test.py PATH/TO/postal-gateway
"""

import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import interop_test  # noqa: E402  (stubs, ports, health)
import generate_openapi  # noqa: E402

expect = interop_test.expect


class Web:
    def __init__(self, port, ca):
        self.base = f"https://127.0.0.1:{port}"
        self.context = ssl.create_default_context(cafile=ca)

    def request(self, method, path, body=None, content_type=None, headers=None):
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, path, payload):
        status, headers, body = self.request("POST", path, json.dumps(payload), "application/json")
        return status, headers, json.loads(body)


def validator(document, name):
    """A JSON Schema validator for one component of the OpenAPI document."""
    from jsonschema import Draft202012Validator
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema)


def browser(download_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=360,800", "--lang=vi"]:
        options.add_argument(argument)
    options.accept_insecure_certs = True  # the development CA; the test checks TLS separately
    options.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                              options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": download_dir})
    driver.set_window_size(360, 800)
    return driver


def axe_violations(driver):
    """Serious and critical violations axe-core finds on the page (WCAG 2.0/2.1 A and AA)."""
    import axe_core_python
    source = os.path.join(os.path.dirname(axe_core_python.__file__), "axe.min.js")
    with open(source, encoding="utf-8") as f:
        driver.execute_script(f.read())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done({violations: r.violations, passes: r.passes.length}))"
        ".catch(e => done({violations: [{id: 'axe-error', impact: 'critical'}], passes: 0}));")
    # axe ran its rules on the page (a page it could not check would pass nothing).
    expect(result["passes"] >= 10, f"axe checked the page ({result['passes']} rules passed)")
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]


def check_page(driver, what):
    """No serious accessibility violation, and nothing wider than the 360-pixel window."""
    violations = axe_violations(driver)
    expect(not violations, f"{what}: axe finds no serious or critical violation "
                           f"({[v['id'] for v in violations]})")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return window.innerWidth")
    expect(width <= viewport, f"{what}: fits a {viewport}-pixel-wide window (content {width} px)")


def tab_to(driver, predicate, what, limit=40):
    """Presses Tab until the focused element satisfies `predicate`; returns it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = driver.switch_to.active_element
        if predicate(element):
            return element
    raise SystemExit(f"FAILED: Tab never reached {what}")


def type_keys(driver, text):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(text).perform()


def press(driver, key):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(key).perform()


def submitting(driver, action):
    """Runs `action` (a key that submits a form) and waits until the next page has loaded."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
    old = driver.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="postal-gateway-web-")
    interop_test.generate_stubs(os.path.join(work, "stubs"))
    import grpc
    from google.protobuf import json_format
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from postalgateway.v1 import common_pb2, counter_service_pb2, counter_service_pb2_grpc
    from postalgateway.v1 import tracking_service_pb2, tracking_service_pb2_grpc

    # The committed OpenAPI document is the one proto/ gives, and a valid one.
    from openapi_spec_validator import validate
    committed_path = generate_openapi.TARGET
    with open(committed_path, encoding="utf-8") as f:
        committed = f.read()
    expect(committed == generate_openapi.rendered(), "the committed openapi.json is what proto/ gives")
    document = json.loads(committed)
    validate(document)
    expect(True, "openapi.json validates as OpenAPI 3.1")

    data = os.path.join(work, "data")
    partner, public, web_port, sms_port, oversight_port = (interop_test.free_port() for _ in range(5))
    receiver_log = os.path.join(work, "sms.jsonl")
    receiver = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests", "receivers", "notification_receiver.py"),
                                 "--mode", "sms", "--log", receiver_log, "--port", str(sms_port)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    expect(receiver.stdout.readline().startswith("listening"), "the SMS receiver listens")
    token = os.path.join(work, "sms-token")
    with open(token, "w") as f:
        f.write("web-test-token\n")
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump({"tracking": {"maximumFailures": 3},
                   "notifications": {"sms": {"url": f"http://127.0.0.1:{sms_port}/sms", "tokenFile": token,
                                             "quietHours": ""}}}, f)
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(
        [binary, "serve", "--config", config, "--data-dir", data, "--partner-address", f"127.0.0.1:{partner}",
         "--public-address", f"127.0.0.1:{public}", "--web-address", f"127.0.0.1:{web_port}",
         "--oversight-web-address", f"127.0.0.1:{oversight_port}"],
        stdout=log, stderr=subprocess.STDOUT)
    driver = None
    try:
        pki = os.path.join(data, "pki")
        for _ in range(300):
            if os.path.exists(os.path.join(pki, "staff-key.pem")):
                break
            time.sleep(0.1)
        ca_path = os.path.join(pki, "ca.pem")
        ca = interop_test.read(ca_path)
        staff = grpc.ssl_channel_credentials(ca, interop_test.read(os.path.join(pki, "staff-key.pem")),
                                             interop_test.read(os.path.join(pki, "staff.pem")))
        shipments = []
        with grpc.secure_channel(f"127.0.0.1:{partner}", staff) as channel:
            interop_test.wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
            counter = counter_service_pb2_grpc.CounterServiceStub(channel)
            for name in ["Nguyễn Văn An", "Trần Thị Bình"]:
                registered = counter.RegisterPickup(counter_service_pb2.RegisterPickupRequest(
                    request_id=str(uuid.uuid4()), service_type=common_pb2.SERVICE_TYPE_DOSSIER_AND_RESULT,
                    applicant=common_pb2.Applicant(full_name=name, citizen_id="019084000123", phone="0912345678",
                                                   address=common_pb2.Address(province_code="19", commune_code="05500",
                                                                              detail="12 Lương Ngọc Quyến")),
                    procedure_code="2.000635", destination_agency_code="000.00.00.H55",
                    pickup=common_pb2.Pickup(counter=common_pb2.CounterPickup(post_office_code="250000"))), timeout=10)
                number = registered.shipment.tracking_number
                counter.RecordCollection(counter_service_pb2.RecordCollectionRequest(
                    request_id=str(uuid.uuid4()), tracking_number=number, seal_id="S-0001",
                    fee_collected_vnd=8000, postage_vnd=25000,
                    items=[common_pb2.HandedOverItem(document_id="TO_KHAI", form=common_pb2.DOCUMENT_FORM_ORIGINAL, pages=2),
                           common_pb2.HandedOverItem(document_id="GIAY_TO_TUY_THAN", form=common_pb2.DOCUMENT_FORM_COPY, pages=1)]),
                    timeout=10)
                shipments.append((number, registered.verification_code))
        (number, code), (other, _) = shipments

        web = Web(web_port, ca_path)
        status, _, body = web.request("GET", "/openapi.json")
        expect(status == 200 and json.loads(body) == document, "GET /openapi.json serves the committed document")

        # The JSON API answers what the gRPC call answers, for the same shipment.
        track_response = validator(document, "TrackShipmentResponse")
        problem = validator(document, "Problem")
        with grpc.secure_channel(f"127.0.0.1:{public}", grpc.ssl_channel_credentials(ca)) as channel:
            tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
            for language in ["vi", "en"]:
                grpc_answer = tracking.TrackShipment(tracking_service_pb2.TrackShipmentRequest(
                    tracking_number=number, verification_code=code, language=language), timeout=10)
                status, headers, api_answer = web.json("/v1/track", {
                    "trackingNumber": number, "verificationCode": code, "language": language})
                expect(status == 200 and api_answer == json_format.MessageToDict(grpc_answer),
                       f"POST /v1/track answers exactly what TrackShipment answers ({language})")
                track_response.validate(api_answer)
                expect(headers.get("Cache-Control") == "no-store", f"the API answer is no-store ({language})")
            status, _, snake = web.json("/v1/track", {"tracking_number": number, "verification_code": code})
            expect(status == 200 and snake["shipment"]["trackingNumber"] == number, "snake_case names are accepted too")
        status, _, receipt = web.json("/v1/receipt", {"trackingNumber": number, "verificationCode": code})
        validator(document, "Receipt").validate(receipt)
        expect(status == 200 and receipt["trackingNumber"] == number, "POST /v1/receipt gives the receipt")
        refusals = [
            ({"trackingNumber": number, "verificationCode": "AAAAA-AAAAA"}, 404, None),
            ({"trackingNumber": "EA12", "verificationCode": code}, 400, "tracking_number"),
            ({"trackingNumber": number, "verificationCode": code, "language": "fr"}, 400, "language"),
        ]
        for payload, expected, field in refusals:
            status, headers, answer = web.json("/v1/track", payload)
            problem.validate(answer)
            named = field is None or [e["field"] for e in answer.get("errors", [])] == [field]
            expect(status == expected and headers.get("Content-Type") == "application/problem+json" and named,
                   f"{payload} is {expected} problem+json ({answer['detail']})")
        status, _, answer = web.request("POST", "/v1/track", "tracking_number=x", "application/x-www-form-urlencoded")
        expect(status == 415, "the API takes JSON only")
        status, _, answer = web.request("POST", "/v1/track", "{not json", "application/json")
        problem.validate(json.loads(answer))
        expect(status == 400, "malformed JSON is 400 problem+json")
        status, _, answer = web.request("POST", "/v1/track", "x" * 20000, "application/json")
        expect(status == 413, "a body over 16 KB is refused")

        # Security headers, and no-store on a page with personal data.
        status, headers, _ = web.request("GET", "/")
        csp = headers.get("Content-Security-Policy", "")
        expect(status == 200 and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
               and "script-src" not in csp, "the form carries a strict Content-Security-Policy (no script)")
        expect(headers.get("Strict-Transport-Security", "").startswith("max-age=")
               and headers.get("X-Content-Type-Options") == "nosniff"
               and headers.get("Referrer-Policy") == "no-referrer", "HSTS, nosniff and no referrer")
        status, headers, page = web.request("POST", "/tra-cuu",
                                            f"lang=vi&tracking_number={number}&verification_code={code}",
                                            "application/x-www-form-urlencoded")
        expect(status == 200 and headers.get("Cache-Control") == "no-store" and "default-src 'none'" in headers.get(
            "Content-Security-Policy", ""), "the result page is no-store, with the same headers")
        expect(b"<script" not in page and b"http://" not in page and b"https://" not in page,
               "the page loads no script and no third-party resource")
        status, _, page = web.request("GET", "/nowhere")
        expect(status == 404 and "Không có trang này".encode() in page, "an unknown address is a readable 404 page")

        # The oversight office's charts: its own address, mutual TLS, the oversight certificate.
        import datetime
        import xml.etree.ElementTree as ElementTree
        today = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).date().isoformat()

        def oversight(path, role):
            context = ssl.create_default_context(cafile=ca_path)
            if role:
                context.load_cert_chain(os.path.join(pki, f"{role}.pem"), os.path.join(pki, f"{role}-key.pem"))
            request = urllib.request.Request(f"https://127.0.0.1:{oversight_port}{path}")
            try:
                with urllib.request.urlopen(request, context=context, timeout=10) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers), error.read()

        query = f"indicator=DIGITIZED&from={today}&to={today}&interval=DAY&group_by=AGENCY"
        status, headers, page = oversight(f"/bieu-do?{query}", "oversight")
        expect(status == 200 and b"<svg" in page and b"000.00.00.H55" in page and b"<script" not in page,
               "the oversight office sees the chart, rendered on the server, with the agency's series")
        expect("default-src 'none'" in headers.get("Content-Security-Policy", ""), "the chart page carries the CSP")
        status, headers, svg = oversight(f"/bieu-do.svg?{query}", "oversight")
        root = ElementTree.fromstring(svg)
        expect(status == 200 and headers.get("Content-Type", "").startswith("image/svg+xml")
               and root.tag.endswith("svg"), "the chart downloads as an SVG that parses")
        status, _, page = oversight(f"/bieu-do?indicator=DIGITIZED&from={today}&to={today}&interval=HOUR&group_by=AGENCY", "oversight")
        expect(status == 400 and b"interval" in page, "a bad interval is told, naming the field")
        status, _, _ = oversight("/", "staff")
        expect(status == 403, "a staff certificate is refused the oversight page")
        try:
            oversight("/", None)
            expect(False, "without a client certificate the handshake fails")
        except (ssl.SSLError, urllib.error.URLError, ConnectionError):
            expect(True, "without a client certificate the handshake fails")

        # In a real browser, on a phone-sized window, with the keyboard alone.
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        downloads = os.path.join(work, "downloads")
        os.makedirs(downloads)
        driver = browser(downloads)
        driver.get(web.base + "/")
        expect(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi", "the form is in Vietnamese")
        check_page(driver, "the form")
        tab_to(driver, lambda e: e.get_attribute("class") == "skip", "the skip link")
        field = tab_to(driver, lambda e: e.get_attribute("id") == "tracking_number", "the tracking number")
        label = driver.find_element(By.CSS_SELECTOR, "label[for=tracking_number]").text
        expect(label == "Số hiệu bưu gửi", "the tracking number field has its label")
        type_keys(driver, number)
        press(driver, Keys.TAB)
        expect(driver.switch_to.active_element.get_attribute("id") == "verification_code", "Tab reaches the code")
        type_keys(driver, code.lower())
        submitting(driver, lambda: press(driver, Keys.ENTER))
        state = driver.find_element(By.CSS_SELECTOR, ".state").text
        expect(state == "Bưu điện đã nhận hồ sơ", f"the result shows the state in Vietnamese ({state})")
        expect(number in driver.find_element(By.TAG_NAME, "h1").text, "the result names the dossier")
        expect(code.lower() not in driver.current_url and code not in driver.current_url,
               "the code is not in the page's address")
        times = [t.text for t in driver.find_elements(By.CSS_SELECTOR, ".timeline time")]
        expect(len(times) == 2 and all(len(t) == 16 and t[2] == "/" and t[5] == "/" for t in times),
               f"the timeline shows dd/MM/yyyy HH:mm ({times})")
        expect("N*** V** A" in driver.page_source and "0912345678" not in driver.page_source,
               "personal data masked as TrackShipment masks it")
        check_page(driver, "the result")

        # The notification choice, with the keyboard: the radio group, then Save.
        radio = tab_to(driver, lambda e: e.get_attribute("name") == "channel", "the notification choice")
        expect(radio.get_attribute("value") == "NONE", "no messages until the citizen chooses")
        press(driver, Keys.ARROW_DOWN)  # NONE → SMS in the group's order
        chosen = driver.switch_to.active_element
        if chosen.get_attribute("value") != "SMS":
            press(driver, Keys.ARROW_UP)
            chosen = driver.switch_to.active_element
        expect(chosen.get_attribute("value") == "SMS" and chosen.is_selected(), "the arrow keys choose SMS")
        tab_to(driver, lambda e: e.tag_name == "button" and e.text == "Lưu lựa chọn", "Save")
        submitting(driver, lambda: press(driver, Keys.ENTER))
        notice = driver.find_element(By.CSS_SELECTOR, ".notice").text
        expect("Tin nhắn SMS" in notice, f"the choice is saved ({notice})")
        _, _, answer = web.json("/v1/track", {"trackingNumber": number, "verificationCode": code})
        expect(answer["shipment"]["notificationChannel"] == "NOTIFICATION_CHANNEL_SMS",
               "the service keeps the citizen's choice")

        # The receipt: downloaded in the browser, then checked offline against the log's key.
        tab_to(driver, lambda e: e.tag_name == "button" and "biên nhận" in e.text, "the receipt button")
        press(driver, Keys.ENTER)  # a download: the page stays
        path = None
        for _ in range(100):
            files = [f for f in os.listdir(downloads) if f.endswith(".json")]
            if files:
                path = os.path.join(downloads, files[0])
                break
            time.sleep(0.1)
        expect(path is not None and os.path.basename(path) == f"bien-nhan-{number}.json", "the receipt downloads")
        key = subprocess.run([binary, "log", "key", "--data-dir", data], capture_output=True, text=True).stdout.strip()
        verified = subprocess.run([binary, "verify", "receipt", path, "--key", key], capture_output=True, text=True)
        expect(verified.returncode == 0 and "receipt OK" in verified.stdout,
               f"the downloaded receipt verifies offline ({verified.stdout.strip() or verified.stderr.strip()})")
        driver.get(web.base + "/xac-minh")
        expect(key in driver.page_source, "the how-to-check page shows the log's key")
        check_page(driver, "how to check a receipt")

        # The language switch, by keyboard, keeps the dossier.
        driver.get(web.base + "/")
        driver.find_element(By.ID, "tracking_number").send_keys(number)
        field = driver.find_element(By.ID, "verification_code")
        field.send_keys(code)
        submitting(driver, lambda: field.send_keys(Keys.ENTER))
        tab_to(driver, lambda e: e.tag_name == "button" and e.text == "English", "the language switch")
        submitting(driver, lambda: press(driver, Keys.ENTER))
        expect(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
               and driver.find_element(By.CSS_SELECTOR, ".state").text == "Dossier received by the post",
               "the switch shows the same dossier in English")
        check_page(driver, "the result in English")

        # A wrong code: the message says so, and the field is marked.
        driver.get(web.base + "/")
        driver.find_element(By.ID, "tracking_number").send_keys(other)
        field = driver.find_element(By.ID, "verification_code")
        field.send_keys("AAAAA-AAAAA")
        submitting(driver, lambda: field.send_keys(Keys.ENTER))
        message = driver.find_element(By.ID, "error-message").text
        expect("Không tìm thấy hồ sơ với số hiệu và mã tra cứu này" in message, f"a wrong code is told ({message})")
        expect(driver.find_element(By.ID, "verification_code").get_attribute("aria-invalid") == "true",
               "the code field is marked invalid for screen readers")
        expect(driver.find_element(By.ID, "tracking_number").get_attribute("value") == other,
               "the number typed is kept")
        check_page(driver, "the wrong-code page")

        # The throttle (3 failures here), with a message a person understands.
        for _ in range(3):
            driver.get(web.base + "/")
            driver.find_element(By.ID, "tracking_number").send_keys(other)
            field = driver.find_element(By.ID, "verification_code")
            field.send_keys("AAAAA-AAAAA")
            submitting(driver, lambda: field.send_keys(Keys.ENTER))
        message = driver.find_element(By.ID, "error-message").text
        expect("quá nhiều lần" in message and "phút" in message, f"the throttle is told in words ({message})")
        check_page(driver, "the throttled page")
        status, headers, answer = web.json("/v1/track", {"trackingNumber": other, "verificationCode": "AAAAA-AAAAA"})
        problem.validate(answer)
        expect(status == 429 and int(headers.get("Retry-After", "0")) > 0 and answer["retryAfterSeconds"] > 0,
               "the JSON API shares the throttle: 429 with Retry-After")
        with grpc.secure_channel(f"127.0.0.1:{public}", grpc.ssl_channel_credentials(ca)) as channel:
            tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
            try:
                tracking.TrackShipment(tracking_service_pb2.TrackShipmentRequest(
                    tracking_number=other, verification_code="AAAAA-AAAAA"), timeout=10)
                expect(False, "gRPC tracking is throttled too")
            except grpc.RpcError as error:
                expect(error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, "gRPC tracking shares the same throttle")

        with open(os.path.join(work, "server.log"), encoding="utf-8") as f:
            logged = f.read()
        expect(code not in logged and code.lower() not in logged and "0912345678" not in logged,
               "neither the code nor the phone reaches the server's log")
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
        receiver.kill()
    print("web test: all checks passed")


if __name__ == "__main__":
    main()
