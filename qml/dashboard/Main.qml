// SPDX-License-Identifier: Apache-2.0
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// The window of tomato-dashboard: a header with the registry's state, a banner when the
// registry is not connected, and a stack of pages: services → service → instance. This is
// the only file that touches `dashboard`; the pages take models and values as properties and
// report the operator's wishes as signals.
ApplicationWindow {
    id: window
    objectName: "dashboardWindow"

    required property var dashboard
    // "services", "service:<id>" or "instance:<host:port>"
    property string initialView: "services"

    // The last call of the instance page's "Try a call".
    property bool callPending: false
    property bool callOk: true
    property string callResult
    // While opened as "instance:<address>": the service page under it follows the instance's
    // micro-service once it is known.
    property bool followInstanceService: false

    // A text field or area has the keyboard: Backspace and "/" are typing, not navigation.
    readonly property bool typing: activeFocusItem !== null && "cursorPosition" in activeFocusItem
                                   && !activeFocusItem["readOnly"]

    visible: true
    title: qsTr("Tomato RPC — %1").arg(dashboard.registryAddress)

    // The program's palette (QGuiApplication::palette(): light, dark or the platform's), handed
    // to the window role by role: the Fusion style of Qt Quick Controls 6.4 keeps its own light
    // window, text and button colours over an application palette. Text colours per group, so
    // that disabled controls keep looking disabled.
    SystemPalette { id: appColors; colorGroup: SystemPalette.Active }
    SystemPalette { id: appDisabledColors; colorGroup: SystemPalette.Disabled }
    palette.window: appColors.window
    palette.active.windowText: appColors.windowText
    palette.inactive.windowText: appColors.windowText
    palette.base: appColors.base
    palette.alternateBase: appColors.alternateBase
    palette.active.text: appColors.text
    palette.inactive.text: appColors.text
    palette.button: appColors.button
    palette.active.buttonText: appColors.buttonText
    palette.inactive.buttonText: appColors.buttonText
    palette.highlight: appColors.highlight
    palette.highlightedText: appColors.highlightedText
    palette.placeholderText: appColors.placeholderText
    palette.light: appColors.light
    palette.midlight: appColors.midlight
    palette.mid: appColors.mid
    palette.dark: appColors.dark
    palette.shadow: appColors.shadow
    palette.disabled.windowText: appDisabledColors.windowText
    palette.disabled.text: appDisabledColors.text
    palette.disabled.buttonText: appDisabledColors.buttonText

    function openService(id) {
        dashboard.currentService = id;
        stack.push(servicePageComponent);
    }

    function openInstance(address) {
        window.callResult = "";
        window.callPending = false;
        dashboard.currentInstance = address;
        stack.push(instancePageComponent);
    }

    function goBack() {
        if (stack.depth <= 1)
            return;
        const leaving = stack.currentItem;
        if (leaving && leaving.objectName === "instancePage") {
            window.followInstanceService = false;
            dashboard.currentInstance = "";
            if (dashboard.currentService === "") {
                // Opened on an instance whose service never became known.
                stack.pop(null);
                return;
            }
        } else if (leaving && leaving.objectName === "servicePage") {
            dashboard.currentService = "";
        }
        stack.pop();
        if (stack.currentItem && stack.currentItem.objectName === "servicesPage")
            stack.currentItem.focusFilter();
        else if (stack.currentItem && stack.currentItem.focusList)
            stack.currentItem.focusList();
    }

    function focusFilter() {
        while (stack.depth > 1)
            goBack();
        servicesPage.focusFilter();
    }

    function openInitialView() {
        const view = initialView;
        if (view.startsWith("service:")) {
            dashboard.currentService = view.substring("service:".length);
            stack.push(servicePageComponent, {}, StackView.Immediate);
        } else if (view.startsWith("instance:")) {
            const address = view.substring("instance:".length);
            dashboard.currentInstance = address;
            window.followInstanceService = true;
            window.followService();
            // The service page under it follows the instance's micro-service once known.
            stack.push(servicePageComponent, {}, StackView.Immediate);
            stack.push(instancePageComponent, {}, StackView.Immediate);
        } else {
            servicesPage.focusFilter();
        }
    }

    function followService() {
        if (!followInstanceService)
            return;
        const id = dashboard.instance.microServiceId;
        if (id !== "" && dashboard.currentService !== id)
            dashboard.currentService = id;
    }

    Component.onCompleted: {
        Theme.dark = dashboard.darkMode;
        openInitialView();
    }

    Connections {
        target: window.dashboard.instance
        function onChanged() { window.followService(); }
    }
    Connections {
        target: window.dashboard
        function onActionFinished(ok, message) { toast.show(ok, message); }
        function onCallFinished(ok, result) {
            window.callPending = false;
            window.callOk = ok;
            window.callResult = result;
        }
    }

    Shortcut {
        sequence: "Ctrl+F"
        onActivated: window.focusFilter()
    }
    Shortcut {
        sequence: "/"
        enabled: !window.typing
        onActivated: window.focusFilter()
    }
    Shortcut {
        sequence: "Escape"
        onActivated: {
            if (window.typing && stack.depth > 1) {
                // Leave the text box, not the page (what was typed stays).
                window.activeFocusItem.focus = false;
                stack.currentItem.forceActiveFocus();
            } else
                window.goBack();
        }
    }
    Shortcut {
        sequence: "Alt+Left"
        onActivated: window.goBack()
    }
    Shortcut {
        sequence: "Backspace"
        enabled: !window.typing
        onActivated: window.goBack()
    }

    header: ToolBar {
        objectName: "headerBar"
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: Theme.smallSpacing
            anchors.rightMargin: Theme.pageMargin
            spacing: Theme.spacing

            ToolButton {
                objectName: "backButton"
                text: "←"
                font.pixelSize: Theme.titleFontSize
                enabled: stack.depth > 1
                focusPolicy: Qt.TabFocus
                Accessible.name: qsTr("Back")
                ToolTip.visible: hovered
                ToolTip.delay: 500
                ToolTip.text: qsTr("Back (Esc, Alt+Left)")
                onClicked: window.goBack()
            }
            Label {
                objectName: "appTitle"
                text: qsTr("Tomato RPC")
                font.pixelSize: Theme.titleFontSize
                font.bold: true
            }
            Label {
                objectName: "breadcrumb"
                Layout.fillWidth: true
                text: {
                    const parts = [];
                    if (stack.depth >= 2)
                        parts.push(window.dashboard.currentService !== "" ? window.dashboard.currentService : "…");
                    if (stack.depth >= 3)
                        parts.push(window.dashboard.currentInstance);
                    return parts.length ? "›  " + parts.join("  ›  ") : qsTr("›  Micro-services");
                }
                font.pixelSize: Theme.headingFontSize
                color: palette.windowText
                elide: Text.ElideMiddle
            }
            Label {
                objectName: "registryAddress"
                Layout.maximumWidth: 360
                text: qsTr("ZooKeeper %1").arg(window.dashboard.registryAddress)
                color: palette.placeholderText
                elide: Text.ElideMiddle
            }
            StatusPill {
                registryState: window.dashboard.registryState
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        RegistryBanner {
            Layout.fillWidth: true
            registryState: window.dashboard.registryState
            address: window.dashboard.registryAddress
            message: window.dashboard.registryMessage
            retryInSeconds: window.dashboard.retryInSeconds
            stale: window.dashboard.stale
            onRetryRequested: window.dashboard.retryNow()
        }

        StackView {
            id: stack
            objectName: "pageStack"
            Layout.fillWidth: true
            Layout.fillHeight: true
            initialItem: servicesPage
        }
    }

    ServicesPage {
        id: servicesPage
        services: window.dashboard.services
        serviceCount: window.dashboard.serviceCount
        loaded: window.dashboard.loaded
        stale: window.dashboard.stale
        registryAddress: window.dashboard.registryAddress
        onServiceActivated: id => window.openService(id)
    }

    Component {
        id: servicePageComponent
        ServicePage {
            serviceId: window.dashboard.currentService
            invokers: window.dashboard.invokers
            consumers: window.dashboard.consumers
            writeRefusal: window.dashboard.writeRefusal
            stale: window.dashboard.stale
            onInstanceActivated: address => window.openInstance(address)
            onSetWeightRequested: (stage, address, weight) => window.dashboard.setWeight(stage, address, weight)
            onSetDisabledRequested: (stage, address, disabled) => window.dashboard.setDisabled(stage, address, disabled)
            onClearOverrideRequested: (stage, address) => window.dashboard.clearOverride(stage, address)
            StackView.onActivated: focusList()
        }
    }

    Component {
        id: instancePageComponent
        InstancePage {
            address: window.dashboard.currentInstance
            details: window.dashboard.instance
            invokers: window.dashboard.invokers
            writeRefusal: window.dashboard.writeRefusal
            callRefusal: window.dashboard.callRefusal
            stale: window.dashboard.stale
            callPending: window.callPending
            callOk: window.callOk
            callResult: window.callResult
            onSetWeightRequested: (stage, address, weight) => window.dashboard.setWeight(stage, address, weight)
            onSetDisabledRequested: (stage, address, disabled) => window.dashboard.setDisabled(stage, address, disabled)
            onClearOverrideRequested: (stage, address) => window.dashboard.clearOverride(stage, address)
            onCallRequested: (interfaceName, method, argumentsJson) => {
                window.callResult = "";
                window.callPending = true;
                window.dashboard.tryCall(address, interfaceName, method, argumentsJson);
            }
        }
    }

    // How the last action went; errors stay longer.
    Rectangle {
        id: toast
        objectName: "actionResult"

        property bool ok: true
        property string message

        function show(ok, message) {
            toast.ok = ok;
            toast.message = message !== "" ? message : (ok ? qsTr("Done") : qsTr("Failed"));
            toast.visible = true;
            hideTimer.interval = ok ? 4000 : 10000;
            hideTimer.restart();
        }

        visible: false
        z: 10
        anchors.horizontalCenter: parent.horizontalCenter
        anchors.bottom: parent.bottom
        anchors.bottomMargin: Theme.largeSpacing * 2
        width: Math.min(toastText.implicitWidth + 2 * Theme.largeSpacing, parent.width - 80)
        height: toastText.implicitHeight + 2 * Theme.spacing + 4
        radius: 4
        color: ok ? palette.base : Theme.errorBackground
        border.color: ok ? Theme.okColor : Theme.errorColor
        border.width: 1

        Label {
            id: toastText
            objectName: "actionResultText"
            anchors.fill: parent
            anchors.margins: Theme.spacing
            anchors.leftMargin: Theme.largeSpacing
            anchors.rightMargin: Theme.largeSpacing
            verticalAlignment: Text.AlignVCenter
            text: toast.message
            color: palette.text
            wrapMode: Text.Wrap
        }
        Timer {
            id: hideTimer
            onTriggered: toast.visible = false
        }
        TapHandler {
            onTapped: toast.visible = false
        }
    }
}
