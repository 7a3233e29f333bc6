const entities: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#x27;': "'",
  '&#x60;': '`',
  '&#x3D;': '=',
};

/** Text as a browser reads it from HTML (Handlebars escapes & < > " ' ` =). */
export function decodeHtml(html: string): string {
  return html.replace(/&(?:amp|lt|gt|quot|#x27|#x60|#x3D);/g, (e) => entities[e]!);
}

const attribute = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/**
 * What a browser would submit from the form posting to `action`: its inputs (checkboxes when
 * checked), the chosen option of each select, and each textarea's text. As the HTML parser does, one
 * newline right after <textarea> is dropped; nothing else is.
 */
export function formFields(html: string, action: string): Array<[string, string]> {
  const form = new RegExp(
    `<form[^>]*action="${action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>([\\s\\S]*?)</form>`,
  ).exec(html);
  if (!form) throw new Error(`no form posting to ${action}`);
  const fields: Array<[string, string]> = [];
  const controls = /<input\b[^>]*>|<textarea\b[^>]*>[\s\S]*?<\/textarea>|<select\b[^>]*>[\s\S]*?<\/select>/g;
  for (const [control] of form[1]!.matchAll(controls)) {
    const tag = /^<[^>]*>/.exec(control)![0];
    const name = attribute(tag, 'name');
    if (!name) continue;
    if (control.startsWith('<textarea')) {
      const text = /^<[^>]*>([\s\S]*?)<\/textarea>$/.exec(control)![1]!;
      fields.push([name, decodeHtml(text.replace(/^\r?\n/, ''))]);
    } else if (control.startsWith('<select')) {
      const options = [...control.matchAll(/<option\b[^>]*>/g)].map((m) => m[0]);
      const chosen = options.find((o) => /\sselected\b/.test(o)) ?? options[0];
      if (chosen) fields.push([name, decodeHtml(attribute(chosen, 'value') ?? '')]);
    } else {
      const type = attribute(tag, 'type') ?? 'text';
      if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/.test(tag)) continue;
      if (type === 'submit' || type === 'button') continue;
      fields.push([name, decodeHtml(attribute(tag, 'value') ?? (type === 'checkbox' ? 'on' : ''))]);
    }
  }
  return fields;
}

/** The fields as an application/x-www-form-urlencoded body, repeated names kept. */
export function formBody(fields: Array<[string, string]>): string {
  return new URLSearchParams(fields).toString();
}
