"""Learners' questions, typed into the site's own search box: the page that answers each one is
among the first three results (pages; a page's matching sections count as one).

The queries are the way learners ask: symptoms, pasted error messages, a half-remembered API
name, not chapter titles. Each names the page (URL path) that answers it; the test types it
into Material's search, as a reader would, and reads the first three results. Where two pages
answer a question equally well (a lesson page and its troubleshooting page), either counts."""

import pytest

pytestmark = pytest.mark.browser

QUESTIONS = [
    # dropout
    ("inverted dropout", "dropout/inverted/"),
    ("why divide by 1 - p in dropout", ("dropout/inverted/", "playground/dropout/")),
    ("dropout p keep probability or drop probability", "dropout/pytorch/"),
    ("nn.Dropout train and eval mode", ("dropout/pytorch/", "troubleshooting/dropout_inactive/")),
    ("bernoulli mask", "dropout/bernoulli/"),
    ("why does dropout work ensemble", "dropout/ensemble/"),
    # CNNs
    ("dropout in convolutional layers", ("cnn/spatial/", "cnn/dropout2d/")),
    ("spatial dropout Dropout2d", "cnn/dropout2d/"),
    ("DropBlock block_size", "cnn/dropblock/"),
    # batch normalization
    ("batch normalization formula by hand", "batchnorm/manual/"),
    ("LayerNorm InstanceNorm GroupNorm difference", "batchnorm/manual/"),
    ("what are running_mean and running_var in BatchNorm", "batchnorm/pytorch/"),
    ("keras batchnorm momentum 0.99", ("troubleshooting/keras/", "batchnorm/pytorch/")),
    ("BatchNorm2d one mean per channel", "batchnorm/pytorch/"),
    ("batch norm before or after ReLU", "batchnorm/placement/"),
    ("how to freeze batchnorm when fine-tuning", "batchnorm/finetuning/"),
    ("track_running_stats=False", "batchnorm/finetuning/"),
    ("MC dropout uncertainty at test time", "dropout/mc_dropout/"),
    # error messages, pasted
    ("Expected more than 1 value per channel when training", "troubleshooting/messages/"),
    ("running_mean should contain 4 elements not 8", "troubleshooting/messages/"),
    ("dropout option adds dropout after all but last recurrent layer", "troubleshooting/messages/"),
    ("Received a 3D input to dropout2d", "troubleshooting/messages/"),
    ("modified by an inplace operation dropout", "troubleshooting/messages/"),
    ("Unexpected key(s) in state_dict num_batches_tracked", "troubleshooting/messages/"),
    ("dropout probability has to be between 0 and 1", "troubleshooting/messages/"),
    # symptoms
    ("accuracy drops after model.eval()", "troubleshooting/eval_gap/"),
    ("validation loss lower than training loss", "troubleshooting/val_loss/"),
    ("dropout still active after eval", "troubleshooting/dropout_inactive/"),
    ("output depends on batch size", "troubleshooting/batch_dependence/"),
    ("two eval calls give different outputs", "troubleshooting/eval_disagree/"),
    # recurrent networks
    ("dropout on the recurrent connection", "rnn/naive/"),
    ("variational dropout LSTM", "rnn/variational/"),
    ("locked dropout same mask every time step", "rnn/variational/"),
    ("zoneout", "rnn/zoneout/"),
    ("weight drop AWD-LSTM", "rnn/awd/"),
    ("embedding dropout", "rnn/awd/"),
    ("nn.LSTM dropout num_layers", "rnn/pytorch/"),
    ("clip_grad_norm exploding gradients", "rnn/pytorch/"),
    ("layer normalization in RNNs", "rnn/normalization/"),
    # other regularizers
    ("weight decay AdamW", "regularizers/weight_decay/"),
    ("label smoothing", "regularizers/label_smoothing/"),
    ("data augmentation", "regularizers/augmentation/"),
    ("early stopping patience", "regularizers/early_stopping/"),
    # modern CNNs
    ("stochastic depth drop path", "modern/stochastic_depth/"),
    ("mixup cutmix", "modern/mixup/"),
    ("EMA of weights update_bn", "modern/weight_averaging/"),
    # coming from Keras, and the smaller questions
    ("keras dropout rate vs keep_prob", ("troubleshooting/keras/", "dropout/pytorch/")),
    ("keras LSTM recurrent_dropout in pytorch", "troubleshooting/keras/"),
    ("noise_shape dropout", "troubleshooting/keras/"),
    ("keras training=True vs model.train()", "troubleshooting/keras/"),
    ("how to choose the dropout rate", "dropout/pytorch/"),
    ("dropout on the input layer", "dropout/pytorch/"),
    ("Dropout1d", "cnn/dropout2d/"),
    ("BatchNorm1d on a sequence (N, L, C)", ("troubleshooting/messages/", "troubleshooting/keras/")),
    ("Dropout2d after Flatten", ("troubleshooting/messages/", "cnn/dropout2d/")),
    # the basics
    ("overfitting training loss falls validation loss rises", ("basics/overfitting/", "experiments/overfitting/")),
]


def results_for(page, query: str) -> list[str]:
    """The URL paths of the results for the query, once the list has settled: changed from the
    previous query's (or 0.6 s passed, for two queries with the same results) and the same on
    two reads in a row."""
    read = "links => links.map(a => new URL(a.href).pathname + new URL(a.href).hash)"
    items = page.locator("li.md-search-result__item > a")
    box = page.locator("input.md-search__input")
    box.click()
    before = items.evaluate_all(read)
    # Material searches on key events: set all but the last character, then type that one
    box.fill(query[:-1])
    page.keyboard.type(query[-1])
    previous = None
    for step in range(200):  # at most 10 s
        page.wait_for_timeout(50)
        current = items.evaluate_all(read)
        settled = current and current == previous
        if settled and (current != before or step >= 12):
            return current
        previous = current
    return previous or []


def test_there_are_at_least_forty_questions():
    assert len(QUESTIONS) >= 40 and len({q for q, _ in QUESTIONS}) == len(QUESTIONS)


def test_each_question_finds_its_page_in_the_first_three(light_tab, base_url):
    page, watch = light_tab.visit("")
    prefix = "/" + base_url.split("/", 3)[3] if base_url.count("/") > 3 else "/"
    misses = []
    for query, expected in QUESTIONS:
        pages = [path.removeprefix(prefix).split("#")[0] for path in results_for(page, query)]
        top = list(dict.fromkeys(pages))[:3]  # a page's sections are listed under it: one result
        if not set(top) & ({expected} if isinstance(expected, str) else set(expected)):
            misses.append(f"{query!r}: expected {expected}, got {top}")
    assert not misses, f"{len(misses)} of {len(QUESTIONS)} questions miss:\n" + "\n".join(misses)
    assert not watch.problems


# The search index is fetched when a reader starts to search (overrides/main.html): not on
# a page load, and at once on each way of starting one.
INDEX = "search/search_index.json"


def index_requests(page) -> list[str]:
    requests = []
    page.on("request", lambda r: INDEX in r.url and requests.append(r.url))
    return requests


def open_fresh(context, base_url, path):
    page = context.new_page()
    requests = index_requests(page)
    page.goto(base_url + path, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, requests


def test_a_page_load_does_not_fetch_the_search_index(light, base_url):
    for path in ("", "batchnorm/manual/", "claims/"):
        page, requests = open_fresh(light, base_url, path)
        try:
            page.wait_for_timeout(300)
            assert requests == [], f"{path or 'index'}: {requests}"
            # Material's "Initializing search" stays until a search starts
            assert page.locator(".md-search-result__meta").inner_text().strip() == "Initializing search"
        finally:
            page.close()


@pytest.mark.parametrize(
    "how",
    ["click the box", "keyboard shortcut", "tab to the box", "phone: tap the button", "hover the box"],
)
def test_starting_a_search_fetches_the_index_once_and_finds_results(browser, light, base_url, how):
    phone = how.startswith("phone")
    context = (
        browser.new_context(viewport={"width": 375, "height": 740}, has_touch=True, is_mobile=True) if phone else light
    )
    page, requests = open_fresh(context, base_url, "dropout/inverted/")
    try:
        box = page.locator("input.md-search__input")
        if how == "click the box":
            box.click()
        elif how == "keyboard shortcut":
            page.keyboard.press("s")  # Material's shortcut (also f and /) opens and focuses the box
        elif how == "tab to the box":
            box.focus()
        elif how == "hover the box":
            box.hover()
            page.wait_for_timeout(200)
            assert len(requests) == 1, "pointing at the search box starts the download"
            box.click()
        else:
            page.locator("label.md-header__button[for='__search']").tap()
        assert box.evaluate("el => el === document.activeElement")
        page.keyboard.type("zoneout")
        page.locator("li.md-search-result__item").first.wait_for(timeout=10_000)
        assert "zoneout" in page.locator("li.md-search-result__item").first.inner_text().lower()
        assert len(requests) == 1, requests
    finally:
        page.close()
        if phone:
            context.close()


def test_a_search_link_with_q_fetches_the_index_on_load(light, base_url):
    page, requests = open_fresh(light, base_url, "?q=zoneout")
    try:
        assert len(requests) == 1
    finally:
        page.close()


def test_other_requests_are_sent_unchanged(light, base_url):
    """The held-back request is the index alone: a script's own XMLHttpRequest is sent."""
    page, requests = open_fresh(light, base_url, "")
    try:
        status = page.evaluate(
            """() => new Promise(done => {
                const x = new XMLHttpRequest();
                x.open("GET", "sitemap.xml");
                x.onload = () => done(x.status);
                x.onerror = () => done(-1);
                x.send();
                setTimeout(() => done("held"), 3000);
            })"""
        )
        assert status == 200
        assert requests == []
    finally:
        page.close()
