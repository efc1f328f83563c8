// Starts `netspec lsp` for the YAML files that `netspec.specs` matches.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("netspec");
  const [command, ...args] = config.get("command");
  const pattern = config.get("specs");
  client = new LanguageClient("netspec", "netspec", { command, args }, {
    documentSelector: [{ scheme: "file", language: "yaml", pattern }, { scheme: "untitled", language: "yaml" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
