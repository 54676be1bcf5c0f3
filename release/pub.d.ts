// A minisign public key imported as text (lib/version.ts).
declare module "*.pub" {
  const text: string;
  export default text;
}
