// The web chat's one script (no framework, nothing from another host). Without it every button is a
// plain form post; with it a press swaps the step in place, keeps the history, and moves focus to the
// heading so that a screen reader announces the new step.
"use strict";
(() => {
  const swap = (html, url, push) => {
    const next = new DOMParser().parseFromString(html, "text/html");
    document.title = next.title;
    document.documentElement.lang = next.documentElement.lang;
    document.body.replaceWith(document.adoptNode(next.body));
    if (push) history.pushState({ swapped: true }, "", url);
    wire();
    const heading = document.querySelector("main h1");
    if (heading) heading.focus();
  };

  const go = async (url, init, push) => {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", ...init });
    } catch {
      return false; // offline or refused: the caller lets the browser do it the plain way
    }
    const type = response.headers.get("Content-Type") || "";
    if (!type.startsWith("text/html")) {
      location.href = response.url;
      return;
    }
    // Only a redirect lands on a page of its own (a step's view); a refusal (a limit, an expired form)
    // is shown in place without becoming a history entry that would post again.
    swap(await response.text(), response.url, push && response.redirected);
    return true;
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== "post") return;
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form, event.submitter));
    const buttons = form.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    go(form.action, { method: "POST", body }, true).then((done) => {
      if (done) return;
      for (const button of buttons) button.disabled = false;
      if (event.submitter && event.submitter.name) {
        const pressed = document.createElement("input");
        pressed.type = "hidden";
        pressed.name = event.submitter.name;
        pressed.value = event.submitter.value;
        form.append(pressed);
      }
      form.submit(); // the plain post, as without this script
    });
  });

  // A page opened at a link that starts over (/, /chatgpt) names its own view: put it in the address,
  // so that coming Back here shows this page instead of starting over again.
  const here = document.getElementById("main");
  if (here && here.dataset.view) history.replaceState(null, "", here.dataset.view);

  window.addEventListener("popstate", () => {
    go(location.href, {}, false).then((done) => done || location.reload());
  });

  const wire = () => {
    const share = document.getElementById("share");
    if (!share) return;
    share.hidden = false;
    share.addEventListener("click", async () => {
      const url = share.dataset.url;
      const said = document.getElementById("shared");
      if (navigator.share) {
        try {
          await navigator.share({ title: share.dataset.title, url });
          return;
        } catch (error) {
          if (error && error.name === "AbortError") return;
        }
      }
      try {
        await navigator.clipboard.writeText(url);
        said.textContent = share.dataset.copied;
      } catch {
        // No clipboard either: select the link so that the person can copy it.
        const range = document.createRange();
        range.selectNodeContents(share.previousElementSibling);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
      }
    });
  };
  wire();
})();
