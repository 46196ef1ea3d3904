//! What `baton demo` sets its agents loose on: a tiny web shop (a Python service with no
//! dependencies), a plan for it, and the files each task's scripted agent will write.

use baton_core::api::NewTask;
use baton_core::Priority;

/// The repository's first commit.
pub const FILES: &[(&str, &str)] = &[
    (
        "README.md",
        "# Web shop\n\nA small shop service: a catalogue, a cart, and soon orders.\n\n\
         ```sh\npython3 -m app.server      # http://127.0.0.1:8000\npython3 -m unittest\n```\n",
    ),
    ("app/__init__.py", ""),
    (
        "app/catalogue.py",
        "\"\"\"The products on sale, by SKU.\"\"\"\n\nPRODUCTS = {\n    \"tea-green\": {\"name\": \"Green tea\", \"price_cents\": 450},\n    \"tea-black\": {\"name\": \"Black tea\", \"price_cents\": 400},\n    \"mug\": {\"name\": \"Mug\", \"price_cents\": 1200},\n}\n\n\ndef price(sku):\n    return PRODUCTS[sku][\"price_cents\"]\n",
    ),
    (
        "app/server.py",
        "\"\"\"The HTTP service: JSON in, JSON out.\"\"\"\n\nimport json\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n\nfrom app.catalogue import PRODUCTS\n\nROUTES = {\"GET /products\": lambda body: (200, PRODUCTS)}\n\n\nclass Handler(BaseHTTPRequestHandler):\n    def _serve(self, method):\n        length = int(self.headers.get(\"Content-Length\") or 0)\n        body = json.loads(self.rfile.read(length) or b\"null\")\n        route = ROUTES.get(f\"{method} {self.path}\")\n        status, payload = route(body) if route else (404, {\"error\": \"not found\"})\n        data = json.dumps(payload).encode()\n        self.send_response(status)\n        self.send_header(\"Content-Type\", \"application/json\")\n        self.end_headers()\n        self.wfile.write(data)\n\n    def do_GET(self):\n        self._serve(\"GET\")\n\n    def do_POST(self):\n        self._serve(\"POST\")\n\n\nif __name__ == \"__main__\":\n    HTTPServer((\"127.0.0.1\", 8000), Handler).serve_forever()\n",
    ),
    (
        "tests/test_catalogue.py",
        "import unittest\n\nfrom app.catalogue import price\n\n\nclass CatalogueTest(unittest.TestCase):\n    def test_price_of_a_mug(self):\n        self.assertEqual(price(\"mug\"), 1200)\n",
    ),
    ("web/index.html", "<!doctype html>\n<title>Web shop</title>\n<h1>Tea and mugs</h1>\n<ul id=\"products\"></ul>\n<script src=\"shop.js\"></script>\n"),
    (
        "web/shop.js",
        "fetch(\"/products\")\n  .then((r) => r.json())\n  .then((products) => {\n    const list = document.getElementById(\"products\");\n    for (const [sku, p] of Object.entries(products)) {\n      list.insertAdjacentHTML(\"beforeend\", `<li data-sku=\"${sku}\">${p.name}</li>`);\n    }\n  });\n",
    ),
];

/// One task of the plan and the files its agent writes (in order, one commit each).
/// `{{answer}}` in a file is replaced by the answer the agent got to its question.
pub struct Step {
    pub title: &'static str,
    pub description: &'static str,
    pub priority: Priority,
    /// Indexes of the tasks it depends on.
    pub depends_on: &'static [usize],
    pub files: &'static [&'static str],
    pub acceptance: &'static [&'static str],
    pub work: &'static [(&'static str, &'static str)],
    /// What its agent answers when another agent asks about it.
    pub reply: Option<&'static str>,
}

/// The questions the stand-in for the person answers when nobody on the dashboard does.
pub const HUMAN_ANSWERS: &[(&str, &str)] = &[(
    "How many orders",
    "10 orders per minute per client; answer 429 with a Retry-After header beyond that.",
)];

/// The plan: the orders feature, in tasks agents can share out. A line starting `Ask X:` is
/// read by the scripted agent (a real agent would just talk).
pub const PLAN: &[Step] = &[
    Step {
        title: "Orders API: create and fetch orders",
        description: "Add POST /orders (a cart of SKUs and quantities) and GET /orders/<id>, priced from the catalogue.",
        priority: Priority::P0,
        depends_on: &[],
        files: &["app/orders.py", "app/server.py", "tests/test_orders.py"],
        acceptance: &[
            "POST /orders returns 201 with the order's id and total",
            "an unknown SKU is refused with 400",
        ],
        reply: Some("POST /orders takes {\"items\": [{\"sku\": \"mug\", \"qty\": 1}]} and returns 201 with {\"id\", \"items\", \"total_cents\"}."),
        work: &[
            ("app/orders.py", "\"\"\"Orders: a cart priced from the catalogue.\"\"\"\n\nimport itertools\n\nfrom app.catalogue import PRODUCTS, price\n\n_ids = itertools.count(1)\nORDERS = {}\n\n\ndef create(body):\n    items = (body or {}).get(\"items\") or []\n    if not items or any(i.get(\"sku\") not in PRODUCTS for i in items):\n        return 400, {\"error\": \"every item needs a known sku\"}\n    order = {\n        \"id\": next(_ids),\n        \"items\": items,\n        \"total_cents\": sum(price(i[\"sku\"]) * int(i.get(\"qty\", 1)) for i in items),\n    }\n    ORDERS[order[\"id\"]] = order\n    return 201, order\n"),
            ("app/server.py", "\"\"\"The HTTP service: JSON in, JSON out.\"\"\"\n\nimport json\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n\nfrom app import orders\nfrom app.catalogue import PRODUCTS\n\nROUTES = {\n    \"GET /products\": lambda body: (200, PRODUCTS),\n    \"POST /orders\": orders.create,\n}\n\n\nclass Handler(BaseHTTPRequestHandler):\n    def _serve(self, method):\n        length = int(self.headers.get(\"Content-Length\") or 0)\n        body = json.loads(self.rfile.read(length) or b\"null\")\n        route = ROUTES.get(f\"{method} {self.path}\")\n        status, payload = route(body) if route else (404, {\"error\": \"not found\"})\n        data = json.dumps(payload).encode()\n        self.send_response(status)\n        self.send_header(\"Content-Type\", \"application/json\")\n        self.end_headers()\n        self.wfile.write(data)\n\n    def do_GET(self):\n        self._serve(\"GET\")\n\n    def do_POST(self):\n        self._serve(\"POST\")\n\n\nif __name__ == \"__main__\":\n    HTTPServer((\"127.0.0.1\", 8000), Handler).serve_forever()\n"),
            ("tests/test_orders.py", "import unittest\n\nfrom app import orders\n\n\nclass OrdersTest(unittest.TestCase):\n    def test_an_order_is_priced_from_the_catalogue(self):\n        status, order = orders.create({\"items\": [{\"sku\": \"mug\", \"qty\": 2}]})\n        self.assertEqual((status, order[\"total_cents\"]), (201, 2400))\n\n    def test_an_unknown_sku_is_refused(self):\n        status, _ = orders.create({\"items\": [{\"sku\": \"coffee\"}]})\n        self.assertEqual(status, 400)\n"),
        ],
    },
    Step {
        title: "Checkout page posts the cart to the orders API",
        description: "A checkout page that sends the cart to POST /orders and shows the total.\n\
Ask T-1: What does POST /orders take and return?",
        priority: Priority::P1,
        depends_on: &[],
        files: &["web/checkout.html", "web/checkout.js"],
        acceptance: &["the page shows the order's total after checkout"],
        reply: None,
        work: &[
            ("web/checkout.html", "<!doctype html>\n<title>Checkout</title>\n<h1>Your cart</h1>\n<ul id=\"cart\"></ul>\n<button id=\"checkout\">Place order</button>\n<p id=\"total\"></p>\n<script src=\"checkout.js\"></script>\n"),
            ("web/checkout.js", "// The orders API, as its author put it: {{answer}}\nconst cart = JSON.parse(localStorage.getItem(\"cart\") || \"[]\");\n\ndocument.getElementById(\"checkout\").addEventListener(\"click\", async () => {\n  const response = await fetch(\"/orders\", {\n    method: \"POST\",\n    headers: { \"Content-Type\": \"application/json\" },\n    body: JSON.stringify({ items: cart }),\n  });\n  const order = await response.json();\n  document.getElementById(\"total\").textContent =\n    response.ok ? `Order ${order.id}: ${(order.total_cents / 100).toFixed(2)}` : order.error;\n});\n"),
        ],
    },
    Step {
        title: "Health check for the load balancer",
        description: "GET /health answers 200 with the service's version, for the load balancer.",
        priority: Priority::P2,
        depends_on: &[],
        files: &["app/health.py"],
        acceptance: &["GET /health answers 200 without touching the catalogue"],
        reply: None,
        work: &[("app/health.py", "\"\"\"What the load balancer asks.\"\"\"\n\nVERSION = \"0.2.0\"\n\n\ndef health(body):\n    return 200, {\"status\": \"ok\", \"version\": VERSION}\n")],
    },
    Step {
        title: "Rate-limit order creation",
        description: "Stop one client from flooding POST /orders.\n\
Ask human: How many orders per minute should one client be allowed?",
        priority: Priority::P1,
        depends_on: &[0],
        files: &["app/ratelimit.py", "tests/test_ratelimit.py"],
        acceptance: &[
            "a client over the limit gets 429 with Retry-After",
            "the limit is the one the product owner chose",
        ],
        reply: None,
        work: &[
            ("app/ratelimit.py", "\"\"\"A sliding window per client.\n\nDecided with the product owner: {{answer}}\n\"\"\"\n\nimport time\nfrom collections import defaultdict, deque\n\nLIMIT = 10\nWINDOW_SECONDS = 60\n_seen = defaultdict(deque)\n\n\ndef allow(client, now=None):\n    now = time.monotonic() if now is None else now\n    window = _seen[client]\n    while window and now - window[0] > WINDOW_SECONDS:\n        window.popleft()\n    if len(window) >= LIMIT:\n        return False\n    window.append(now)\n    return True\n"),
            ("tests/test_ratelimit.py", "import unittest\n\nfrom app import ratelimit\n\n\nclass RateLimitTest(unittest.TestCase):\n    def test_the_eleventh_order_in_a_minute_is_refused(self):\n        allowed = [ratelimit.allow(\"ann\", now=i) for i in range(11)]\n        self.assertEqual(allowed.count(False), 1)\n"),
        ],
    },
    Step {
        title: "Order confirmation email",
        description: "Render the confirmation email sent when an order is created.",
        priority: Priority::P2,
        depends_on: &[0],
        files: &["app/emails.py"],
        acceptance: &["the email lists every item and the total"],
        reply: None,
        work: &[("app/emails.py", "\"\"\"The confirmation email for an order.\"\"\"\n\nfrom app.catalogue import PRODUCTS\n\n\ndef confirmation(order):\n    lines = [f\"Thank you for order {order['id']}.\", \"\"]\n    for item in order[\"items\"]:\n        lines.append(f\"  {item.get('qty', 1)} x {PRODUCTS[item['sku']]['name']}\")\n    lines += [\"\", f\"Total: {order['total_cents'] / 100:.2f}\"]\n    return \"\\n\".join(lines)\n")],
    },
    Step {
        title: "Document the orders API",
        description: "Write down the orders API and its limits for the shop's front-end team.",
        priority: Priority::P2,
        depends_on: &[0, 3],
        files: &["docs/orders.md"],
        acceptance: &["the rate limit is documented"],
        reply: None,
        work: &[("docs/orders.md", "# Orders\n\n`POST /orders` with `{\"items\": [{\"sku\": \"mug\", \"qty\": 1}]}` answers `201` with\n`{\"id\", \"items\", \"total_cents\"}`; an unknown SKU answers `400`.\n\n`GET /orders/<id>` answers the order, or `404`.\n\nOne client may create 10 orders a minute; beyond that the answer is `429` with\n`Retry-After`.\n")],
    },
];

/// The plan as tasks for one batch (keys `t0`, `t1`, ... so dependencies can name them).
pub fn tasks() -> Vec<NewTask> {
    PLAN.iter()
        .enumerate()
        .map(|(i, step)| NewTask {
            key: Some(format!("t{i}")),
            title: step.title.to_string(),
            description: Some(step.description.to_string()),
            priority: Some(step.priority),
            epic: Some("orders".to_string()),
            depends_on: step.depends_on.iter().map(|d| format!("t{d}")).collect(),
            acceptance_criteria: step.acceptance.iter().map(|a| a.to_string()).collect(),
            files: step.files.iter().map(|f| f.to_string()).collect(),
            ..NewTask::default()
        })
        .collect()
}
