// Parse translation strings as Home Assistant's frontend does (formatjs ICU MessageFormat).
//
// stdin: a JSON object {key: message}; stdout: a JSON object {key: result} where result is
// {"error": "UNCLOSED_TAG ..."} for a string the frontend cannot render, otherwise
// {"arguments": [names the message needs], "literals": [its literal text parts]}.
// The frontend (intl-messageformat) parses with the default options: tags are on.
import { parse, TYPE } from "@formatjs/icu-messageformat-parser";
import { readFileSync } from "node:fs";

const messages = JSON.parse(readFileSync(0, "utf8"));

function walk(elements, names, literals) {
  for (const el of elements) {
    switch (el.type) {
      case TYPE.literal:
        literals.push(el.value);
        break;
      case TYPE.tag:
        names.add(el.value);
        walk(el.children, names, literals);
        break;
      case TYPE.select:
      case TYPE.plural:
        names.add(el.value);
        for (const option of Object.values(el.options)) walk(option.value, names, literals);
        break;
      case TYPE.pound:
        break;
      default: // argument, number, date, time
        names.add(el.value);
    }
  }
}

const results = {};
for (const [key, message] of Object.entries(messages)) {
  try {
    const names = new Set();
    const literals = [];
    walk(parse(message), names, literals);
    results[key] = { arguments: [...names].sort(), literals };
  } catch (err) {
    results[key] = { error: `${err.message}` };
  }
}
process.stdout.write(JSON.stringify(results));
