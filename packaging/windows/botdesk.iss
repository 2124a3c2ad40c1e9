; Inno Setup script for Botdesk on Windows (Inno Setup 6).
;
; Build the one-folder app first, from the checkout's root, in a Windows Python 3.11+
; with the app's dependencies, PyInstaller and Pillow (which turns the PNG icon into .ico):
;     pip install -e ".[test]" pillow
;     pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\botdesk.spec
; then compile this script (the version comes from the command line):
;     "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\botdesk.iss
; The installer is written to dist\botdesk-0.1.0-setup.exe. See packaging\README.md.
;
; A per-user install by default (no administrator rights needed; the dialog offers
; "install for all users" too). It adds a Start-menu entry, an optional desktop icon,
; the `botdesk` command on the user's PATH, and the .botdesk file type opening in Botdesk.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Botdesk"
#define SourceDir "..\..\dist\botdesk"

[Setup]
; A fixed AppId: upgrades replace the installed version instead of adding a second one.
AppId={{6E4C2A0B-9B1F-4F51-8E37-2D5B0C7A9E14}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Botdesk
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=botdesk-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\botdesk-gui.exe
ChangesAssociations=yes
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the botdesk command to my PATH"; GroupDescription: "Command line:"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\botdesk-gui.exe"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\botdesk-gui.exe"; Tasks: desktopicon

[Registry]
; The .botdesk file type: HKA is the current user's classes for a per-user install and the
; machine's for an all-users one. A double-click runs `botdesk-gui.exe FILE`, which opens it.
Root: HKA; Subkey: "Software\Classes\.botdesk"; ValueType: string; ValueName: ""; ValueData: "Botdesk.Workspace"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.botdesk"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-botdesk"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Botdesk.Workspace"; ValueType: string; ValueName: ""; ValueData: "Botdesk workspace"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Botdesk.Workspace\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\botdesk-gui.exe,0"
Root: HKA; Subkey: "Software\Classes\Botdesk.Workspace\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\botdesk-gui.exe"" ""%1"""
; The `botdesk` command in new terminals (the user's PATH; the machine's for all users).
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}')) and not IsAdminInstallMode; Tasks: addtopath
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}')) and IsAdminInstallMode; Tasks: addtopath

[Run]
Filename: "{app}\botdesk-gui.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
  RootKey: Integer;
  SubKey: string;
begin
  if IsAdminInstallMode then begin
    RootKey := HKEY_LOCAL_MACHINE;
    SubKey := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';
  end else begin
    RootKey := HKEY_CURRENT_USER;
    SubKey := 'Environment';
  end;
  if not RegQueryStringValue(RootKey, SubKey, 'Path', Current) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;
