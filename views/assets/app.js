// Progressive enhancement only: every page works without this file.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var input = document.getElementById(button.getAttribute('data-copy'));
      var next = button.parentElement.nextElementSibling;
      var status =
        next && next.classList.contains('copy-status')
          ? next
          : button.parentElement.parentElement.querySelector('.copy-status');
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) status.textContent = button.getAttribute('data-copied');
      });
    });
  });
  // A print button where script can print; the print view works with the browser's own command too.
  document.querySelectorAll('button[data-print]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      window.print();
    });
  });
  // A visit that came with a source code (?source=, utm_*) keeps it on the way to a sign or letter
  // form on another page of ours (the page it landed on has it in its forms already, from the server).
  var params = new window.URLSearchParams(window.location.search);
  var carried = ['source', 'utm_source', 'utm_medium', 'utm_campaign'].filter(function (name) {
    return params.get(name);
  });
  if (carried.length > 0) {
    document.querySelectorAll('a[href^="/petitions/"], a[href^="/demands/"]').forEach(function (link) {
      var url = new URL(link.getAttribute('href'), window.location.href);
      carried.forEach(function (name) {
        if (!url.searchParams.has(name)) url.searchParams.set(name, params.get(name));
      });
      link.setAttribute('href', url.pathname + url.search + url.hash);
    });
  }
  // Move focus to the error summary so screen reader and keyboard users start there.
  var summary = document.querySelector('.error-summary');
  if (summary) summary.focus();
});
