// Progressive enhancement only: every page works without this file.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var input = document.getElementById(button.getAttribute('data-copy'));
      var status = button.parentElement.parentElement.querySelector('.copy-status');
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
  // Move focus to the error summary so screen reader and keyboard users start there.
  var summary = document.querySelector('.error-summary');
  if (summary) summary.focus();
});
