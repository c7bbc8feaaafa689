// Berth: live address check on the "Create a site" form (the server checks again on submit).
(function () {
  "use strict";
  const form = document.querySelector("form[data-site-create]");
  if (!form) return;
  const name = form.querySelector("[data-slug-source]");
  const slug = form.querySelector("[data-slug-input]");
  const status = form.querySelector("[data-slug-status]");
  const url = form.dataset.checkUrl;
  const domain = slug.dataset.domain;
  let edited = Boolean(slug.value), timer = null, seq = 0;

  function say(text, ok, suggestion) {
    status.textContent = text;
    status.classList.toggle("ok", ok === true);
    status.classList.toggle("bad", ok === false);
    if (suggestion) {
      const use = document.createElement("button");
      use.type = "button";
      use.className = "link-button";
      use.textContent = "Use “" + suggestion + "”";
      use.addEventListener("click", function () { slug.value = suggestion; edited = true; check(); });
      status.append(" ", use);
    }
  }

  function check() {
    const mine = ++seq;
    const params = new URLSearchParams({ name: name.value, slug: edited ? slug.value : "" });
    fetch(url + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (mine !== seq) return; // a newer check is on its way
        if (!edited) {
          slug.placeholder = data.suggestion;
          if (name.value.trim()) say("Your site will be at " + data.suggestion + "." + domain, true);
          else say("Lower-case letters, digits and hyphens.", null);
          return;
        }
        if (data.available) say(data.slug + "." + domain + " is available.", true);
        else say(data.message, false, data.suggestion !== data.slug ? data.suggestion : "");
      })
      .catch(function () { /* the server checks on submit anyway */ });
  }

  function later() { clearTimeout(timer); timer = setTimeout(check, 250); }
  name.addEventListener("input", function () { if (!edited) later(); });
  slug.addEventListener("input", function () {
    slug.value = slug.value.toLowerCase().replace(/[^a-z0-9-]/g, "-");
    edited = slug.value !== "";
    later();
  });
  if (name.value || slug.value) check();
})();
