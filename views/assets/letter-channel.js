// Progressive enhancement for the letter form: the sentence under the country says how the chosen
// delegation receives letters (by email, or on paper with the next pack of signatures). Without this
// file the page writes it for the country already chosen and lists every delegation's way.
document.addEventListener('DOMContentLoaded', function () {
  var select = document.getElementById('field-country');
  var note = document.getElementById('field-country-channel');
  if (!select || !note) return;
  function update() {
    var option = select.options[select.selectedIndex];
    var channel = option ? option.getAttribute('data-channel') : null;
    note.textContent = (channel && note.getAttribute('data-' + channel)) || '';
  }
  select.addEventListener('change', update);
  update();
});
