// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Asks before an action on an instance's override node, saying what the action does to the
// clients: set a weight, disable or enable, clear the override. One dialog for the three.
Dialog {
    id: dialog
    objectName: "actionDialog"

    // The micro-service the instance belongs to, for the sentence.
    property string serviceId
    // Non-empty: the actions are refused (read-only dashboard, no permission).
    property string writeRefusal

    // "weight", "disable", "enable", "clear"
    property string action
    property string stage
    property string address
    property int weight: 100

    signal setWeightConfirmed(string stage, string address, int weight)
    signal setDisabledConfirmed(string stage, string address, bool disabled)
    signal clearOverrideConfirmed(string stage, string address)

    function askSetWeight(stage, address, weight) {
        ask("weight", stage, address);
        weightBox.value = weight > 0 ? weight : 100;
        weightBox.forceActiveFocus();
    }
    function askSetDisabled(stage, address, disabled) {
        ask(disabled ? "disable" : "enable", stage, address);
    }
    function askClearOverride(stage, address) {
        ask("clear", stage, address);
    }
    function ask(action, stage, address) {
        dialog.action = action;
        dialog.stage = stage;
        dialog.address = address;
        open();
    }

    readonly property string question: {
        const svc = serviceId !== "" ? serviceId : qsTr("the service");
        switch (action) {
        case "weight":
            return qsTr("Set the weight of %1 in %2 to %3? Every client of %4 in %2 applies it within a second.")
                .arg(address).arg(stage).arg(weightBox.value).arg(svc);
        case "disable":
            return qsTr("Disable %1 in %2? Every client of %3 in %2 stops sending it calls within a second; calls in flight finish.")
                .arg(address).arg(stage).arg(svc);
        case "enable":
            return qsTr("Enable %1 in %2 again? Every client of %3 in %2 sends it calls again within a second.")
                .arg(address).arg(stage).arg(svc);
        case "clear":
            return qsTr("Clear the override of %1 in %2? Every client of %3 in %2 goes back to its registered weight within a second.")
                .arg(address).arg(stage).arg(svc);
        }
        return "";
    }

    title: {
        switch (action) {
        case "weight": return qsTr("Set weight");
        case "disable": return qsTr("Disable instance");
        case "enable": return qsTr("Enable instance");
        default: return qsTr("Clear override");
        }
    }
    parent: Overlay.overlay
    anchors.centerIn: parent
    width: Math.min(520, parent ? parent.width - 40 : 520)
    modal: true
    focus: true
    padding: Theme.largeSpacing
    topPadding: Theme.spacing

    onAccepted: {
        if (writeRefusal !== "")
            return;
        switch (action) {
        case "weight": setWeightConfirmed(stage, address, weightBox.value); break;
        case "disable": setDisabledConfirmed(stage, address, true); break;
        case "enable": setDisabledConfirmed(stage, address, false); break;
        case "clear": clearOverrideConfirmed(stage, address); break;
        }
    }

    ColumnLayout {
        anchors.left: parent.left
        anchors.right: parent.right
        spacing: Theme.spacing * 1.5

        RowLayout {
            visible: dialog.action === "weight"
            spacing: Theme.spacing
            Label { text: qsTr("Weight (1 to 1000)") }
            SpinBox {
                id: weightBox
                objectName: "weightSpinBox"
                from: 1
                to: 1000
                stepSize: 10
                editable: true
                value: 100
                Keys.onReturnPressed: dialog.accept()
                Keys.onEnterPressed: dialog.accept()
            }
        }
        Label {
            objectName: "actionQuestion"
            Layout.fillWidth: true
            text: dialog.question
            wrapMode: Text.Wrap
        }
        Label {
            objectName: "actionRefusal"
            Layout.fillWidth: true
            visible: dialog.writeRefusal !== ""
            text: qsTr("Not allowed: %1").arg(dialog.writeRefusal)
            color: Theme.errorColor
            wrapMode: Text.Wrap
        }
    }

    footer: DialogButtonBox {
        Button {
            objectName: "actionConfirm"
            text: {
                switch (dialog.action) {
                case "weight": return qsTr("Set weight");
                case "disable": return qsTr("Disable");
                case "enable": return qsTr("Enable");
                default: return qsTr("Clear override");
                }
            }
            enabled: dialog.writeRefusal === ""
            DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole
        }
        Button {
            text: qsTr("Cancel")
            DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
        }
    }
}
